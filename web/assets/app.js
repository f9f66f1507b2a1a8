// The worker's phone page (/app/): sign in or register, campaigns with every reason,
// one-tap claim, the wallet with a large QR, joining a union, and the inbox.
// Written for a small screen on a weak network: few requests, nothing re-drawn unless
// it changed, and the last wallet kept on the phone so a code can be shown offline.

import { Session, ApiProblem, newKey, civil, civilDate, el, say } from "./api.js";
import * as handouts from "./app-handouts.js";

const session = new Session("app");
const $ = (id) => document.getElementById(id);
const main = $("main");
const msg = $("msg");
const who = $("who");
const barActions = $("bar-actions");

const POLL_MS = 20000;
const QR_POLL_MS = 5000;
const WALLET_CACHE = "zhijian.app.wallet";

const OCCUPATIONS = [
  ["courier", "快递员"],
  ["food_delivery", "外卖配送员"],
  ["ride_hailing", "网约车司机"],
  ["truck_driver", "货车司机"],
  ["sanitation", "环卫工人"],
  ["domestic", "家政服务员"],
  ["other", "其他"],
];

const VOUCHER_STATUS = {
  issued: ["待使用", "ok"],
  redeemed: ["已核销", ""],
  expired: ["已过期", "bad"],
  cancelled: ["已退回", ""],
  revoked: ["已作废", "bad"],
};

const SECTIONS = [
  ["campaigns", "活动"],
  ["wallet", "我的券包"],
  ["profile", "我的"],
  ["membership", "入会"],
  ["inbox", "消息"],
];

let state = freshState();

function freshState() {
  return {
    view: "",
    seq: {}, // per section: the newest load, so a slow old answer never overwrites a new one
    sig: {}, // per section: what is on screen, so an unchanged answer is not re-drawn
    busy: 0,
    loading: false,
    lastLoad: 0,
    timer: 0,
    unions: null,
    stations: new Map(),
    qr: new Map(),
    openQr: new Set(),
    claimKeys: new Map(),
    statuses: new Map(),
    joinCode: null,
  };
}

// ---------- messages ----------

let msgTimer = 0;

/** Says something in the live region; good news fades, errors stay until replaced or tapped. */
function tell(text, kind = "info") {
  clearTimeout(msgTimer);
  say(msg, text, kind);
  if (kind !== "error") msgTimer = setTimeout(() => say(msg, "", kind), 12000);
}

function tellProblem(e) {
  tell(sentenceOf(e), "error");
}

function sentenceOf(e) {
  if (!(e instanceof ApiProblem)) {
    console.error(e);
    return "出了点问题，请稍后再试";
  }
  const reasons = Array.isArray(e.body.reasons) ? e.body.reasons : [];
  if (reasons.length && !e.body.detail) return `${e.sentence}：${reasons.map((r) => r.message).join("；")}`;
  return e.sentence;
}

msg.addEventListener("click", () => say(msg, "", msg.dataset.kind || "info"));

// ---------- small helpers ----------

/** A label, its input and an optional hint tied to it with aria-describedby. */
function field(id, label, attrs = {}, hint) {
  return [
    el("label", { for: id }, label),
    el("input", { id, name: id, ...attrs, "aria-describedby": hint ? `${id}-hint` : undefined }),
    hint && el("p", { id: `${id}-hint`, class: "hint muted" }, hint),
  ];
}

/**
 * The form's own checks, said as a sentence in the live region (forms are `novalidate`:
 * the browser's bubbles are in the browser's language and vanish on a small screen).
 */
function formOk(form) {
  const bad = form.querySelector("input:invalid, select:invalid");
  if (!bad) return true;
  const label = form.querySelector(`label[for="${bad.id}"]`)?.textContent || "这一项";
  const v = bad.validity;
  if (v.valueMissing) tell(bad.tagName === "SELECT" ? `请${label}` : `请填写${label}`, "error");
  else if (v.tooShort) tell(`${label}至少 ${bad.minLength} 位`, "error");
  else tell(`${label}格式不对${bad.title ? `：${bad.title}` : ""}`, "error");
  bad.focus();
  return false;
}

/** Runs an action with its button disabled, showing a problem as a sentence. */
async function withBusy(button, action) {
  const s = state; // the action may sign in or out, which starts a fresh state
  if (button) button.disabled = true;
  s.busy += 1;
  try {
    return await action();
  } catch (e) {
    tellProblem(e);
    return undefined;
  } finally {
    s.busy -= 1;
    if (button) button.disabled = false;
  }
}

function setView(name, ...nodes) {
  state.view = name;
  main.replaceChildren(...nodes.flat());
}

// ---------- signed out: login, register, password change ----------

function showLogin() {
  if (state.view === "login") return;
  leaveHome();
  say(msg, "", "info");
  barActions.replaceChildren();
  who.textContent = "";
  const form = el(
    "form",
    { class: "card auth", novalidate: true, onsubmit: onLogin },
    el("h2", {}, "职工登录"),
    field("login-phone", "手机号", { type: "tel", inputmode: "numeric", autocomplete: "username", required: true }),
    field("login-password", "密码", { type: "password", autocomplete: "current-password", required: true }),
    el("button", { type: "submit", class: "wide" }, "登录"),
  );
  setView(
    "login",
    el("p", { class: "intro" }, "看工会活动、一键领取福利，到驿站出示券码即可领到物品。"),
    form,
    el("button", { type: "button", class: "secondary wide", onclick: showRegister }, "没有账号？注册"),
  );
  $("login-phone").focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const f = ev.currentTarget;
  if (!formOk(f)) return;
  const phone = f.elements["login-phone"].value.trim();
  const password = f.elements["login-password"].value;
  await withBusy(f.querySelector("button[type=submit]"), () => signIn(phone, password));
}

async function signIn(phone, password) {
  const pair = await session.login(phone, password);
  localStorage.removeItem(WALLET_CACHE);
  if (pair.password_change_required) {
    showPasswordChange(password);
    return false;
  }
  return enter();
}

/** Checks the account is a worker's, then opens the page. */
async function enter() {
  let me;
  try {
    me = await session.get("/api/v1/me");
  } catch (e) {
    if (e.code === "PASSWORD_CHANGE_REQUIRED") return showPasswordChange();
    throw e;
  }
  if (await refusedRole(me)) return false;
  say(msg, "", "info");
  showHome(me);
  return true;
}

async function refusedRole(me) {
  if (me.role === "worker") return false;
  await session.logout();
  showLogin();
  tell("此页面仅供职工使用，请用职工账号登录", "error");
  return true;
}

function showRegister() {
  leaveHome();
  say(msg, "", "info");
  const select = el(
    "select",
    { id: "reg-occupation", name: "reg-occupation" },
    el("option", { value: "" }, "请选择"),
    OCCUPATIONS.map(([value, label]) => el("option", { value }, label)),
  );
  const form = el(
    "form",
    { class: "card auth", novalidate: true, onsubmit: onRegister },
    el("h2", {}, "注册职工账号"),
    field("reg-phone", "手机号", { type: "tel", inputmode: "numeric", autocomplete: "username", required: true }),
    field("reg-password", "密码", { type: "password", autocomplete: "new-password", required: true, minlength: 8 }, "至少 8 位，不要用太简单的密码"),
    field("reg-name", "姓名", { type: "text", autocomplete: "name", required: true, maxlength: 40 }),
    el("label", { for: "reg-occupation" }, "职业"),
    select,
    field(
      "reg-region",
      "地区代码",
      { type: "text", inputmode: "numeric", pattern: "[1-9][0-9]{5}", maxlength: 6, autocomplete: "off", title: "6 位数字" },
      "选填。6 位数字，例如 331004（台州市路桥区）",
    ),
    el("button", { type: "submit", class: "wide" }, "注册"),
  );
  setView("register", form, el("button", { type: "button", class: "secondary wide", onclick: showLogin }, "已有账号？去登录"));
  $("reg-phone").focus();
}

async function onRegister(ev) {
  ev.preventDefault();
  if (!formOk(ev.currentTarget)) return;
  const f = ev.currentTarget.elements;
  const body = {
    phone: f["reg-phone"].value.trim(),
    password: f["reg-password"].value,
    name: f["reg-name"].value.trim(),
  };
  if (f["reg-occupation"].value) body.occupation = f["reg-occupation"].value;
  if (f["reg-region"].value.trim()) body.region_code = f["reg-region"].value.trim();
  await withBusy(ev.currentTarget.querySelector("button[type=submit]"), async () => {
    await session.post("/api/v1/auth/register", body);
    if (await signIn(body.phone, body.password)) tell("注册成功，欢迎使用", "ok");
  });
}

/** After an admin's reset every call but this one answers PASSWORD_CHANGE_REQUIRED. */
function showPasswordChange(known) {
  if (state.view === "password") return;
  leaveHome();
  barActions.replaceChildren(el("button", { type: "button", onclick: signOut }, "退出"));
  const form = el(
    "form",
    { class: "card auth", novalidate: true, onsubmit: onPasswordChange },
    el("h2", {}, "请先修改密码"),
    el("p", {}, "您的密码已被工会重置，请设置一个新密码后继续使用。"),
    field("pw-current", "当前密码", { type: "password", autocomplete: "current-password", required: true }),
    field("pw-new", "新密码", { type: "password", autocomplete: "new-password", required: true, minlength: 8 }, "至少 8 位"),
    el("button", { type: "submit", class: "wide" }, "修改密码"),
  );
  setView("password", form);
  if (known) $("pw-current").value = known;
  $(known ? "pw-new" : "pw-current").focus();
}

async function onPasswordChange(ev) {
  ev.preventDefault();
  if (!formOk(ev.currentTarget)) return;
  const f = ev.currentTarget.elements;
  const body = { current_password: f["pw-current"].value, new_password: f["pw-new"].value };
  await withBusy(ev.currentTarget.querySelector("button[type=submit]"), async () => {
    await session.post("/api/v1/me/password", body);
    if (await enter()) tell("密码已修改", "ok");
  });
}

async function signOut() {
  await session.logout();
  localStorage.removeItem(WALLET_CACHE);
  showLogin();
  tell("已退出登录", "info");
}

// ---------- signed in: the page ----------

function showHome(me) {
  leaveHome();
  barActions.replaceChildren(
    el("button", { type: "button", onclick: onRefresh }, "刷新"),
    el("button", { type: "button", onclick: signOut }, "退出"),
  );
  setView(
    "home",
    el("a", { id: "wallet-jump", class: "jump hidden", href: "#sec-wallet" }),
    SECTIONS.map(([key, title]) => sectionShell(key, title)),
  );
  loadAll(false, me);
  state.timer = setInterval(tick, QR_POLL_MS);
}

/** Forgets everything of the signed-in page (timers, pictures, idempotency keys). */
function leaveHome() {
  clearInterval(state.timer);
  for (const url of state.qr.values()) url.then((u) => URL.revokeObjectURL(u)).catch(() => {});
  state = freshState();
}

function sectionShell(key, title) {
  return el(
    "section",
    { id: `sec-${key}`, "aria-labelledby": `h-${key}` },
    el("h2", { id: `h-${key}`, tabindex: "-1" }, title),
    el("div", { id: `body-${key}`, "aria-busy": "true" }, el("p", { class: "muted" }, "正在加载…")),
  );
}

const LOADERS = {
  campaigns: [fetchCampaigns, renderCampaigns],
  wallet: [fetchWallet, renderWallet],
  profile: [handouts.fetchProfile, handouts.renderProfile],
  membership: [fetchMembership, renderMembership],
  inbox: [fetchInbox, renderInbox],
};

/** Loads one section; re-draws it only when the answer differs from what is shown. */
async function reload(key, arg) {
  const s = state;
  const seq = (s.seq[key] || 0) + 1;
  s.seq[key] = seq;
  const [fetcher, render] = LOADERS[key];
  const body = $(`body-${key}`);
  let data;
  try {
    data = await fetcher(arg);
  } catch (e) {
    if (s === state && !s.sig[key] && body) body.replaceChildren(el("p", { class: "muted" }, "没能加载，请点上方的“刷新”再试。"));
    throw e;
  }
  if (s !== state || s.seq[key] !== seq || s.view !== "home" || !body) return;
  const sig = JSON.stringify(data);
  if (sig === s.sig[key]) return;
  s.sig[key] = sig;
  keepFocus(body, () => body.replaceChildren(...render(data).flat().filter(Boolean)));
  body.removeAttribute("aria-busy");
}

async function loadAll(quiet, me) {
  const s = state;
  s.lastLoad = Date.now();
  s.loading = true;
  const results = await Promise.allSettled(SECTIONS.map(([key]) => reload(key, key === "membership" ? me : undefined)));
  s.loading = false;
  const failed = results.find((r) => r.status === "rejected");
  if (!failed) return true;
  const e = failed.reason;
  // A lost session is said even after a quiet poll; otherwise a quiet poll keeps what is shown.
  if (!session.signedIn) tellProblem(e);
  else if (s !== state) return false;
  else if (e instanceof ApiProblem && e.code === "PASSWORD_CHANGE_REQUIRED") showPasswordChange();
  else if (!quiet) tellProblem(e);
  return false;
}

async function onRefresh(ev) {
  const button = ev.currentTarget;
  button.disabled = true;
  try {
    if (await loadAll(false)) tell("已刷新", "ok");
  } finally {
    button.disabled = false;
  }
}

/** Every 5 s: the wallet while a QR is open (to show 已核销 soon), everything every 20 s. */
function tick() {
  if (document.visibilityState !== "visible" || state.view !== "home" || state.busy || state.loading) return;
  if (Date.now() - state.lastLoad >= POLL_MS) loadAll(true);
  else if (state.openQr.size) reload("wallet").catch(() => {});
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") tick();
});

/** Re-draws a container without losing the keyboard focus of a button that is still there. */
function keepFocus(container, draw) {
  const active = document.activeElement;
  const inside = container.contains(active) && active !== container;
  const key = inside ? active.dataset.key : null;
  draw();
  if (!inside) return;
  const again = key && container.querySelector(`[data-key="${CSS.escape(key)}"]`);
  (again || container.parentElement.querySelector("h2")).focus({ preventScroll: true });
}

// ---------- 活动 ----------

async function fetchCampaigns() {
  const page = await session.get("/api/v1/campaigns?limit=50");
  const checks = await Promise.all(
    page.items.map((c) =>
      session.get(`/api/v1/campaigns/${c.id}/eligibility`).catch((e) => ({ failed: sentenceOf(e) })),
    ),
  );
  return page.items.map((c, i) => ({ ...c, eligibility: checks[i] }));
}

function renderCampaigns(items) {
  if (!items.length) return [el("p", { class: "muted" }, "现在没有进行中的活动。")];
  return items.map(campaignCard);
}

function campaignCard(c) {
  return el(
    "article",
    { class: "card campaign", "aria-labelledby": `c-${c.id}` },
    el("h3", { id: `c-${c.id}` }, c.title),
    el("p", { class: "item" }, c.item_name),
    handouts.campaignTags(c),
    el("p", { class: "facts" }, el("span", { class: "remaining" }, `剩余 ${c.remaining} 份`), el("span", { class: "muted" }, `共 ${c.total_stock} 份`)),
    el("p", {}, `领取时间：${civil(c.claim_starts_at)} 至 ${civil(c.claim_ends_at)}`),
    el("p", { class: "muted" }, `${c.fulfilment === "delivery" ? "送货截止" : "到驿站领取截止"}：${civil(c.redeem_until)}`),
    c.description && el("p", { class: "desc" }, c.description),
    eligibilityBlock(c),
  );
}

function eligibilityBlock(c) {
  const e = c.eligibility;
  if (c.mode === "allocate") return handouts.allocatedVerdict(c);
  if (e.failed) return el("p", { class: "notice", "data-kind": "error" }, `查不到能否领取：${e.failed}`);
  if (e.eligible) {
    return el(
      "div",
      { class: "verdict" },
      el("p", { class: "yes" }, "可以领取"),
      el("button", { type: "button", class: "wide", "data-key": `claim:${c.id}`, onclick: (ev) => claim(c, ev.currentTarget) }, "领取"),
    );
  }
  return el(
    "div",
    { class: "verdict" },
    el("p", { class: "no" }, "暂不能领取"),
    el("ul", { class: "reasons" }, e.reasons.map((r) => el("li", {}, r.message))),
  );
}

/** True when the server has decided the claim, so a new tap should be a new request. */
function settled(e) {
  if (!(e instanceof ApiProblem)) return false;
  return e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429 && e.code !== "IDEMPOTENCY_IN_FLIGHT";
}

async function claim(c, button) {
  // One key per campaign until the answer is final: a tap retried after a timeout or a
  // dropped connection reuses it, so the server hands out one voucher, not two.
  if (!state.claimKeys.has(c.id)) state.claimKeys.set(c.id, newKey());
  const key = state.claimKeys.get(c.id);
  let voucherId = null;
  await withBusy(button, async () => {
    try {
      const v = await session.post(`/api/v1/campaigns/${c.id}/claims`, {}, { idempotencyKey: key });
      state.claimKeys.delete(c.id);
      voucherId = v.id;
      tell(`领取成功：${v.item_name}。券已放进下方券包，到驿站出示二维码即可领取物品`, "ok");
    } catch (e) {
      if (settled(e)) state.claimKeys.delete(c.id);
      if (e instanceof ApiProblem && e.body.voucher_id) voucherId = e.body.voucher_id;
      throw e;
    }
  });
  await Promise.allSettled([reload("wallet"), reload("campaigns")]);
  if (voucherId) document.querySelector(`[data-key="qr:${CSS.escape(voucherId)}"]`)?.focus();
}

// ---------- 我的券包 ----------

/** The wallet; when the network is down, the copy saved at the last good load. */
async function fetchWallet() {
  try {
    const page = await session.get("/api/v1/me/vouchers?limit=100");
    localStorage.setItem(WALLET_CACHE, JSON.stringify({ at: new Date().toISOString(), items: page.items }));
    return { items: page.items };
  } catch (e) {
    const saved = readSavedWallet();
    if (e instanceof ApiProblem && e.status === 0 && saved) return { items: saved.items, savedAt: saved.at };
    throw e;
  }
}

function readSavedWallet() {
  try {
    return JSON.parse(localStorage.getItem(WALLET_CACHE) || "null");
  } catch {
    return null;
  }
}

function renderWallet({ items, savedAt }) {
  noticeRedeemed(items);
  const usable = items.filter((v) => v.status === "issued");
  updateJump(usable.length);
  // Vouchers to show at the counter first, then the used ones, each newest first.
  const ordered = [...usable, ...items.filter((v) => v.status !== "issued")];
  const nodes = ordered.map(voucherCard);
  if (savedAt) nodes.unshift(el("p", { class: "notice", "data-kind": "info" }, `网络不通，下面是 ${civil(savedAt)} 保存的券。券码仍可给工作人员输入。`));
  if (!items.length) nodes.push(el("p", { class: "muted" }, "还没有券。在上方活动中点“领取”，券就会放在这里。"));
  return nodes;
}

/** A voucher that was shown as 待使用 and is now 已核销: say so, the worker is at the counter. */
function noticeRedeemed(items) {
  for (const v of items) {
    if (state.statuses.get(v.id) === "issued" && v.status === "redeemed") tell(`核销成功：${v.item_name}`, "ok");
    state.statuses.set(v.id, v.status);
    if (v.status !== "issued") state.openQr.delete(v.id);
  }
}

function updateJump(count) {
  const jump = $("wallet-jump");
  if (!jump) return;
  jump.classList.toggle("hidden", count === 0);
  jump.textContent = `您有 ${count} 张券可以使用，点这里出示`;
}

function voucherCard(v) {
  const [label, tone] = VOUCHER_STATUS[v.status] || [v.status, ""];
  return el(
    "article",
    { class: `card voucher ${v.status}`, "aria-labelledby": `v-${v.id}` },
    el("div", { class: "title-row" }, el("h3", { id: `v-${v.id}` }, v.campaign_title), el("span", { class: `tag ${tone}` }, label)),
    el("p", { class: "item" }, v.item_name),
    el("p", { class: "code-line" }, el("span", { class: "muted" }, "券码"), el("span", { class: "code" }, v.code)),
    el("p", {}, `有效期至 ${civil(v.expires_at)}`),
    v.redeemed_at && el("p", {}, `核销时间 ${civil(v.redeemed_at)}`),
    v.status === "cancelled" && v.cancelled_at && el("p", { class: "muted" }, `退回时间 ${civil(v.cancelled_at)}`),
    v.status === "issued" && stationList(v.campaign_id),
    v.status === "issued" && qrArea(v),
    v.status === "redeemed" && handouts.ratingBlock(v),
  );
}

/** Where to collect: the campaign's stations, asked once per campaign and filled in later. */
function stationList(campaignId) {
  const box = el("div", { class: "stations" });
  campaignDetail(campaignId)
    .then((c) => {
      if (c.fulfilment === "delivery") {
        box.replaceChildren(handouts.deliveryNote());
        return;
      }
      const list = c.stations || [];
      if (!list.length) return;
      box.replaceChildren(
        el("p", { class: "muted" }, "可到这些驿站领取："),
        el("ul", {}, list.map((s) => el("li", {}, el("strong", {}, s.name), stationDetail(s)))),
      );
    })
    .catch(() => {});
  return box;
}

function stationDetail(s) {
  const parts = [s.address, s.open_24h ? "24 小时开放" : s.opening_hours].filter(Boolean);
  return parts.length ? `（${parts.join("，")}）` : "";
}

function campaignDetail(id) {
  if (!state.stations.has(id)) {
    const asked = session.get(`/api/v1/campaigns/${id}`);
    asked.catch(() => state.stations.delete(id));
    state.stations.set(id, asked);
  }
  return state.stations.get(id);
}

function qrArea(v) {
  const panel = el("div", { id: `qr-${v.id}`, class: "qr-panel hidden" });
  const button = el(
    "button",
    { type: "button", class: "wide", "data-key": `qr:${v.id}`, "aria-controls": panel.id, "aria-expanded": "false" },
    "出示二维码",
  );
  button.addEventListener("click", () => showQr(v, panel, button, true));
  // A re-drawn wallet keeps an open QR open.
  if (state.openQr.has(v.id)) showQr(v, panel, button, false);
  return el("div", { class: "qr-area" }, button, panel);
}

async function showQr(v, panel, button, byTap) {
  state.openQr.add(v.id);
  button.setAttribute("aria-expanded", "true");
  panel.classList.remove("hidden");
  panel.replaceChildren(el("p", { class: "muted" }, "正在生成二维码…"));
  let src;
  try {
    src = await qrUrl(v.id);
  } catch (e) {
    hideQr(v, panel, button);
    if (byTap) tellProblem(e);
    return;
  }
  if (!state.openQr.has(v.id)) return; // closed (or signed out) while the picture was coming
  const img = el("img", { class: "qr", alt: "券二维码", src });
  const close = el("button", { type: "button", class: "secondary", onclick: () => hideQr(v, panel, button, true) }, "收起");
  panel.replaceChildren(img, el("p", {}, "请把二维码给驿站工作人员扫描"), close);
  if (byTap) img.addEventListener("load", () => img.scrollIntoView({ block: "center" }), { once: true });
}

/** The QR picture as an object URL, asked once per voucher (a second tap waits for the first). */
function qrUrl(id) {
  if (!state.qr.has(id)) {
    const asked = session.imageUrl(`/api/v1/me/vouchers/${id}/qr.svg`);
    asked.catch(() => state.qr.delete(id));
    state.qr.set(id, asked);
  }
  return state.qr.get(id);
}

function hideQr(v, panel, button, refocus) {
  state.openQr.delete(v.id);
  panel.classList.add("hidden");
  panel.replaceChildren();
  button.setAttribute("aria-expanded", "false");
  if (refocus) button.focus();
}

// ---------- 入会 ----------

async function fetchMembership(given) {
  const me = given || (await session.get("/api/v1/me"));
  if (await refusedRole(me)) return null;
  who.textContent = me.name;
  const m = me.membership;
  const none = m.status === "none";
  // The directory is needed to choose (none) and only nice to have for a name otherwise.
  const unions = await allUnions(me.region_code).catch((e) => {
    if (none) throw e;
    return [];
  });
  const last = none ? (await session.get("/api/v1/me/membership-applications?limit=1")).items[0] || null : null;
  return { m, unions, last, joinCode: state.joinCode };
}

/** The union directory (a few pages at most), unions of the worker's own region first. */
async function allUnions(region) {
  if (!state.unions) {
    const list = [];
    let cursor = null;
    for (let i = 0; i < 5; i += 1) {
      const page = await session.get(`/api/v1/unions?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      list.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    const near = (u) => (region ? commonPrefix(u.region_code || "", region) : 0);
    state.unions = list.map((u, i) => [u, near(u), i]).sort((a, b) => b[1] - a[1] || a[2] - b[2]).map(([u]) => u);
  }
  return state.unions;
}

function commonPrefix(a, b) {
  let n = 0;
  while (n < a.length && a[n] === b[n]) n += 1;
  return n;
}

function renderMembership(data) {
  if (!data) return [];
  const { m, unions } = data;
  const unionName = (id) => unions.find((u) => u.id === id)?.name;
  if (m.status === "member") {
    return [
      el("p", { class: "member-no" }, `会员号 ${m.member_no}`),
      unionName(m.union_id) && el("p", {}, `所属工会：${unionName(m.union_id)}`),
      m.since && el("p", { class: "muted" }, `入会日期：${civilDate(m.since)}`),
    ];
  }
  if (m.status === "pending") {
    return [
      el("p", { class: "pending" }, "入会申请审核中"),
      unionName(m.union_id) && el("p", {}, `申请加入：${unionName(m.union_id)}`),
      el("p", { class: "muted" }, "审核有结果后会通知您。"),
    ];
  }
  return joinForms(data);
}

function joinForms({ unions, last, joinCode }) {
  const select = el(
    "select",
    { id: "union-select", name: "union_id", required: true },
    el("option", { value: "" }, "请选择"),
    unions.map((u) => el("option", { value: u.id }, u.name)),
  );
  const apply = el(
    "form",
    { class: "join", novalidate: true, onsubmit: onApply },
    el("label", { for: "union-select" }, "选择工会"),
    select,
    el("button", { type: "submit", class: "wide", "data-key": "apply" }, "申请入会"),
  );
  return [
    last?.status === "rejected" &&
      el("p", { class: "notice", "data-kind": "info" }, `上次的入会申请没有通过${last.reason ? `：${last.reason}` : ""}。可以重新申请。`),
    el("p", {}, "加入工会后，可以领取会员专享的福利。"),
    apply,
    onsiteJoin(joinCode),
  ];
}

async function onApply(ev) {
  ev.preventDefault();
  if (!formOk(ev.currentTarget)) return;
  const select = ev.currentTarget.elements.union_id;
  await withBusy(ev.currentTarget.querySelector("button[type=submit]"), async () => {
    await session.post("/api/v1/me/membership-applications", { union_id: select.value });
    tell("入会申请已提交，请等待工会审核", "ok");
  });
  await reload("membership").catch(tellProblem);
}

/** On-site joining: an 8-digit code the worker reads out at the counter, as consent. */
function onsiteJoin(joinCode) {
  const live = joinCode && new Date(joinCode.expires_at) > new Date();
  return el(
    "div",
    { class: "onsite" },
    el("p", { class: "muted" }, "在驿站现场办理入会时，把入会码告诉工作人员。"),
    live && el("p", { class: "join-code" }, joinCode.code),
    live && el("p", { class: "muted" }, `10 分钟内有效，至 ${civil(joinCode.expires_at)}`),
    el("button", { type: "button", class: "secondary wide", "data-key": "join-code", onclick: onJoinCode }, live ? "换一个入会码" : "获取现场入会码"),
  );
}

async function onJoinCode(ev) {
  await withBusy(ev.currentTarget, async () => {
    state.joinCode = await session.post("/api/v1/me/join-codes", {});
  });
  await reload("membership").catch(tellProblem);
}

// ---------- 消息 ----------

async function fetchInbox() {
  const page = await session.get("/api/v1/me/notifications?limit=30");
  return page.items;
}

function renderInbox(items) {
  if (!items.length) return [el("p", { class: "muted" }, "暂时没有消息。")];
  const unread = items.filter((n) => !n.read_at).length;
  return [unread > 0 && el("p", { class: "muted" }, `${unread} 条未读`), ...items.map(noteCard)];
}

function noteCard(n) {
  const unread = !n.read_at;
  return el(
    "article",
    { class: `card note${unread ? " unread" : ""}`, "aria-labelledby": `n-${n.id}` },
    el("p", { id: `n-${n.id}`, class: "note-title" }, unread && el("span", { class: "tag bad" }, "未读"), el("strong", {}, n.title)),
    el("p", {}, n.body),
    el("p", { class: "muted" }, civil(n.created_at)),
    unread && el("button", { type: "button", class: "secondary", "data-key": `read:${n.id}`, onclick: (ev) => markRead(n, ev.currentTarget) }, "标为已读"),
  );
}

async function markRead(n, button) {
  await withBusy(button, () => session.post(`/api/v1/me/notifications/${n.id}/read`, {}));
  await reload("inbox").catch(tellProblem);
}

// ---------- start ----------

handouts.setup({ session, tell, tellProblem, withBusy, reload });

// A lost session also forgets the saved wallet: its codes must not outlive the sign-in.
session.onSignedOut = () => {
  localStorage.removeItem(WALLET_CACHE);
  showLogin();
};
if (session.signedIn) showHome();
else showLogin();
