// 核销台 · 送货上门: the vouchers still to deliver at this counter's stations (oldest
// first, holders masked, the address to go to), and one large 确认送达 per row. The
// hand-over goes through the same exactly-once fence as a redemption; like 确认核销, one
// Idempotency-Key per press is kept while the outcome is unknown, so a retry after a
// dropped connection can never record it twice. counter.js mounts deliveriesSection().

import { ApiProblem, newKey, civil, el } from "/assets/api.js";

const PAGE = 50;
// Answers about a passing moment: the same press (same key) may be sent again.
const TRANSIENT = new Set([
  "NETWORK", "REDEMPTION_IN_PROGRESS", "IDEMPOTENCY_IN_FLIGHT", "RATE_LIMITED", "REQUEST_TIMEOUT", "UNAVAILABLE", "INTERNAL",
]);

/**
 * The section. `c`: {session, stationId(), stationName(id), live(), onDelivered(), beep(ok),
 * signedOut(e)} from counter.js.
 */
export function deliveriesSection(c) {
  const s = { open: false, items: [], cursor: null, seq: 0, keys: new Map(), busy: new Set() };
  const ui = {};
  ui.toggle = el("button", { type: "button", class: "disclosure", "aria-expanded": "false", "aria-controls": "deliveries-body" }, "送货上门");
  ui.count = el("span", { class: "muted" });
  ui.refresh = el("button", { type: "button", class: "secondary hidden" }, "刷新送货单");
  ui.answer = el("div", { class: "big-answer", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  ui.note = el("p", { class: "muted" });
  ui.list = el("div", { class: "delivery-list" });
  ui.more = el("button", { type: "button", class: "secondary hidden" }, "加载更多");
  ui.body = el(
    "div",
    { id: "deliveries-body", class: "hidden" },
    el("p", { class: "hint" }, "送到后按“确认送达”；确认时记在上方选中的驿站。一张券只能确认一次。"),
    ui.answer,
    ui.note,
    ui.list,
    el("div", { class: "actions" }, ui.more),
  );
  const root = el(
    "section",
    { class: "deliveries-area", "aria-labelledby": "deliveries-title" },
    el("div", { class: "row today-head" }, el("h2", { id: "deliveries-title" }, ui.toggle), ui.count, ui.refresh),
    ui.body,
  );

  const ctx = { c, s, ui };
  ui.toggle.addEventListener("click", () => setOpen(ctx, !s.open));
  ui.refresh.addEventListener("click", () => load(ctx, false));
  ui.more.addEventListener("click", () => load(ctx, true));
  return { root, refresh: () => s.open && load(ctx, false) };
}

function setOpen(ctx, open) {
  const { s, ui } = ctx;
  s.open = open;
  ui.toggle.setAttribute("aria-expanded", String(open));
  ui.body.classList.toggle("hidden", !open);
  ui.refresh.classList.toggle("hidden", !open);
  if (!open) return;
  clearAnswer(ui);
  load(ctx, false);
}

async function load(ctx, more) {
  const { c, s, ui } = ctx;
  const seq = ++s.seq; // a slower, older answer is dropped
  if (!more && !s.items.length) ui.note.textContent = "正在读取送货单…";
  const cursor = more && s.cursor ? `&cursor=${encodeURIComponent(s.cursor)}` : "";
  ui.more.disabled = true;
  try {
    const page = await c.session.get(`/api/v1/counter/deliveries?limit=${PAGE}${cursor}`);
    if (!c.live() || seq !== s.seq) return;
    s.items = more ? s.items.concat(page.items || []) : page.items || [];
    s.cursor = page.next_cursor || null;
    render(ctx);
  } catch (e) {
    if (!c.live() || seq !== s.seq) return;
    if (!(e instanceof ApiProblem)) console.error(e);
    else if (e.status === 401) return;
    else if (c.signedOut(e)) return;
    ui.note.textContent = `暂时读不到送货单：${e instanceof ApiProblem ? e.sentence : "页面出错了"}`;
  } finally {
    ui.more.disabled = false;
  }
}

function render(ctx) {
  const { s, ui } = ctx;
  ui.count.textContent = s.items.length ? `${s.items.length}${s.cursor ? "+" : ""} 件待送` : "";
  ui.note.textContent = s.items.length ? "" : "现在没有要送货上门的券。";
  ui.more.classList.toggle("hidden", !s.cursor);
  ui.list.replaceChildren(...s.items.map((item) => row(ctx, item)));
}

function row(ctx, item) {
  const id = item.voucher_id;
  const confirm = el("button", { type: "button", class: "confirm", "aria-describedby": `dl-${id}` }, "确认送达");
  confirm.addEventListener("click", () => deliver(ctx, item, confirm));
  const facts = [
    ["持券人", item.holder_name_masked],
    ["手机", item.holder_phone_masked],
    ["活动", item.campaign_title],
    ["有效期至", civil(item.expires_at)],
  ];
  return el(
    "article",
    { class: "card voucher go delivery", "aria-labelledby": `dl-${id}` },
    el("h3", { id: `dl-${id}` }, item.item_name, " · ", item.holder_name_masked),
    item.address
      ? el("p", { class: "address" }, el("span", { class: "muted" }, "送至 "), item.address)
      : el("p", { class: "address missing" }, "职工还没有填写收货地址，请先打电话联系"),
    el("dl", { class: "facts" }, facts.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v)))),
    el("div", { class: "confirm-block" }, confirm),
  );
}

async function deliver(ctx, item, button) {
  const { c, s, ui } = ctx;
  const stationId = c.stationId();
  // One key per voucher and station while the outcome is unknown (the body is part of it).
  const slot = `${item.voucher_id}:${stationId}`;
  if (s.busy.has(item.voucher_id)) return; // a second press while one is in flight does nothing
  if (!s.keys.has(slot)) s.keys.set(slot, newKey());
  s.busy.add(item.voucher_id);
  button.disabled = true;
  button.textContent = "正在提交…";
  clearAnswer(ui);
  try {
    const body = { voucher_id: item.voucher_id, station_id: stationId };
    const done = await c.session.post("/api/v1/counter/deliveries", body, { idempotencyKey: s.keys.get(slot) });
    s.keys.delete(slot);
    if (!c.live()) return;
    const where = c.stationName(done.station_id);
    showAnswer(ui, "ok", "送达成功", `${item.item_name} · ${item.holder_name_masked}`, `${civil(done.redeemed_at)}${where ? ` 由 ${where} 送达` : ""}`);
    c.beep(true);
    c.onDelivered();
    load(ctx, false);
  } catch (e) {
    if (!c.live()) return;
    refused(ctx, e, item, button, slot);
  } finally {
    s.busy.delete(item.voucher_id);
  }
}

function refused(ctx, e, item, button, slot) {
  const { c, s, ui } = ctx;
  if (!(e instanceof ApiProblem)) {
    console.error(e);
    showAnswer(ui, "bad", "出错了", "请刷新页面后重试");
    return;
  }
  if (e.status === 401 || c.signedOut(e)) return;
  const transient = TRANSIENT.has(e.code) || e.status >= 500 || e.status === 0;
  c.beep(false);
  if (transient) {
    // The row and its key stay: pressing 确认送达 again retries this very press.
    button.disabled = false;
    button.textContent = "确认送达";
    showAnswer(ui, "bad", e.body.title || e.message, detailOf(e), `${item.item_name} · ${item.holder_name_masked}`, "可再按“确认送达”重试");
    return;
  }
  s.keys.delete(slot);
  const when = e.code === "ALREADY_REDEEMED" && e.body.redeemed_at ? `于 ${civil(e.body.redeemed_at)} 已送达或核销` : "";
  showAnswer(ui, "bad", e.body.title || e.message, detailOf(e), when, `${item.item_name} · ${item.holder_name_masked}`);
  load(ctx, false);
}

function detailOf(e) {
  const { title, detail } = e.body;
  return detail && detail !== title ? detail : "";
}

function showAnswer(ui, kind, headline, ...lines) {
  ui.answer.className = `big-answer ${kind}`;
  ui.answer.replaceChildren(
    el("span", { class: "mark", "aria-hidden": "true" }, kind === "ok" ? "✓" : "✗"),
    el("span", { class: "headline" }, headline),
    ...lines.filter(Boolean).map((line) => el("small", {}, line)),
  );
  ui.answer.scrollIntoView({ block: "nearest" });
}

function clearAnswer(ui) {
  ui.answer.className = "big-answer";
  ui.answer.replaceChildren();
}
