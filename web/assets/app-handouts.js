// The worker's page (/app/), the other ways goods are handed out: 我的 (the delivery
// address and 微心愿), 评价 of a voucher once it is redeemed or delivered, and the words
// for campaigns the union allocates (工会直接发放) or delivers (送货上门).
// app.js calls setup() once with what it shares, then uses the exports below.

import { ApiProblem, civil, el } from "./api.js";

export const WISH_CATEGORIES = [
  ["warmth", "防寒保暖"],
  ["food", "米面粮油"],
  ["daily", "生活用品"],
  ["health", "医疗健康"],
  ["tools", "工作用具"],
  ["other", "其他"],
];
const CATEGORY = Object.fromEntries(WISH_CATEGORIES);
const STAR_WORDS = ["", "很不满意", "不满意", "一般", "满意", "非常满意"];

/** {session, tell, tellProblem, withBusy, reload} from app.js. */
let ctx = null;

export function setup(shared) {
  ctx = shared;
}

// ---------- 活动: allocated and delivered campaigns ----------

/** Small tags under a campaign's item: 精准发放, 送货上门. */
export function campaignTags(c) {
  const tags = [
    c.mode === "allocate" && el("span", { class: "tag" }, "精准发放"),
    c.fulfilment === "delivery" && el("span", { class: "tag ok" }, "送货上门"),
  ].filter(Boolean);
  return tags.length ? el("p", { class: "modes" }, tags) : null;
}

/** An allocated campaign is not claimed: say so, with the reasons the server gives. */
export function allocatedVerdict(c) {
  const e = c.eligibility || {};
  const reasons = Array.isArray(e.reasons) ? e.reasons : [];
  return el(
    "div",
    { class: "verdict" },
    el("p", { class: "allocated" }, "工会直接发放"),
    e.failed && el("p", { class: "notice", "data-kind": "error" }, `查不到发放条件：${e.failed}`),
    reasons.length > 0 && el("ul", { class: "reasons neutral" }, reasons.map((r) => el("li", {}, r.message))),
  );
}

// ---------- 我的券包: delivery and rating ----------

/** In place of the station list, for a voucher of a delivery campaign. */
export function deliveryNote() {
  return el(
    "div",
    { class: "delivery-note" },
    el("p", {}, el("strong", {}, "送货上门"), "：工作人员会把物品送到您填写的收货地址，请保持电话畅通。"),
    el("a", { href: "#sec-profile" }, "查看或修改收货地址"),
  );
}

function ratedLine(score) {
  return el(
    "p",
    { class: "rated", tabindex: "-1" },
    el("span", { class: "tag ok" }, "已评价"),
    score ? ` ${"★".repeat(score)} 谢谢您的评价` : " 谢谢您的评价",
  );
}

/** 评价: five star buttons, an optional comment and 提交评价, for a redeemed voucher. */
export function ratingBlock(v) {
  const box = el("div", { class: "rating" });
  if (v.rating) {
    box.append(ratedLine(v.rating));
    return box;
  }
  let score = 0;
  const label = el("p", { id: `rate-h-${v.id}`, class: "rate-title" }, "评价这次服务");
  const said = el("span", { class: "muted" });
  const stars = [1, 2, 3, 4, 5].map((n) =>
    el("button", { type: "button", class: "star", "aria-label": `${n} 星`, "aria-pressed": "false", "data-key": `star:${v.id}:${n}` }, "★"),
  );
  const pick = (n) => {
    score = n;
    stars.forEach((b, i) => {
      b.setAttribute("aria-pressed", String(i < n));
      b.classList.toggle("on", i < n);
    });
    said.textContent = `${n} 星 · ${STAR_WORDS[n]}`;
  };
  stars.forEach((b, i) => b.addEventListener("click", () => pick(i + 1)));
  const commentId = `rate-comment-${v.id}`;
  const comment = el("input", { id: commentId, type: "text", maxlength: "500", autocomplete: "off" });
  const submit = el("button", { type: "button", class: "wide", "data-key": `rate:${v.id}` }, "提交评价");
  submit.addEventListener("click", () => rate(v, box, () => score, comment, submit));
  box.append(
    label,
    el("div", { class: "stars", role: "group", "aria-labelledby": label.id }, stars, said),
    el("label", { for: commentId }, "想说的话（选填）"),
    comment,
    submit,
  );
  return box;
}

async function rate(v, box, score, comment, submit) {
  const n = score();
  if (!n) {
    ctx.tell("请先点星星打分（1 到 5 星）", "error");
    box.querySelector(".star")?.focus();
    return;
  }
  const body = { score: n };
  if (comment.value.trim()) body.comment = comment.value.trim();
  await ctx.withBusy(submit, async () => {
    let shown = n;
    try {
      await ctx.session.post(`/api/v1/me/vouchers/${v.id}/rating`, body);
      ctx.tell("评价已提交，谢谢您的反馈", "ok");
    } catch (e) {
      if (!(e instanceof ApiProblem) || e.code !== "ALREADY_RATED") throw e;
      ctx.tell("这张券您已经评价过了", "info");
      shown = 0;
    }
    const line = ratedLine(shown);
    box.replaceChildren(line);
    line.focus({ preventScroll: true });
  });
}

// ---------- 我的: address and wishes ----------

export async function fetchProfile() {
  const me = await ctx.session.get("/api/v1/me");
  if (me.role !== "worker") return null; // app.js signs a non-worker out
  const wishes = await ctx.session.get("/api/v1/me/wishes");
  return { address: me.address || "", wishes: wishes.items || [] };
}

export function renderProfile(data) {
  if (!data) return [];
  return [addressForm(data.address), wishBlock(data.wishes)];
}

function addressForm(address) {
  const input = el("input", {
    id: "me-address", name: "me-address", type: "text", maxlength: "200", autocomplete: "street-address",
    value: address, "aria-describedby": "me-address-hint",
  });
  return el(
    "form",
    { class: "card", novalidate: true, onsubmit: onAddress },
    el("label", { for: "me-address" }, "收货地址"),
    input,
    el("p", { id: "me-address-hint", class: "hint muted" }, address ? "送货上门的物品会送到这里。只有负责送货的驿站能看到。" : "还没有填写。工会送货上门时会送到这里，只有负责送货的驿站能看到。"),
    el("button", { type: "submit", class: "wide", "data-key": "address" }, "保存地址"),
  );
}

async function onAddress(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const value = form.elements["me-address"].value.trim();
  const done = await ctx.withBusy(form.querySelector("button[type=submit]"), async () => {
    await ctx.session.patch("/api/v1/me", { address: value || null });
    ctx.tell(value ? "收货地址已保存" : "收货地址已清除", "ok");
    return true;
  });
  if (done) await ctx.reload("profile").catch(ctx.tellProblem);
}

function wishBlock(wishes) {
  const open = new Set(wishes.filter((w) => w.status === "open").map((w) => w.category));
  const select = el(
    "select",
    { id: "wish-category", name: "wish-category" },
    el("option", { value: "" }, "请选择"),
    WISH_CATEGORIES.map(([value, label]) =>
      el("option", { value, disabled: open.has(value) }, open.has(value) ? `${label}（已提交，待实现）` : label),
    ),
  );
  const form = el(
    "form",
    { class: "card", novalidate: true, onsubmit: onWish },
    el("h3", {}, "微心愿"),
    el("p", { class: "muted" }, "说说您眼下最需要的一件东西。工会只看到各类心愿的人数，不看到姓名。"),
    el("label", { for: "wish-category" }, "心愿类别"),
    select,
    el("label", { for: "wish-text" }, "我的心愿"),
    el("textarea", { id: "wish-text", name: "wish-text", rows: "2", maxlength: "200" }),
    el("button", { type: "submit", class: "wide", "data-key": "wish" }, "提交心愿"),
  );
  const list = wishes.map((w) =>
    el(
      "article",
      { class: `card wish ${w.status}` },
      el(
        "div",
        { class: "title-row" },
        el("strong", {}, w.category_label || CATEGORY[w.category] || w.category),
        el("span", { class: `tag ${w.status === "fulfilled" ? "ok" : ""}` }, w.status === "fulfilled" ? "已实现" : "待实现"),
      ),
      el("p", { class: "wish-text" }, w.text),
      el("p", { class: "muted" }, w.fulfilled_at ? `${civil(w.fulfilled_at)} 实现` : `${civil(w.created_at)} 提交`),
    ),
  );
  return [form, list.length ? el("h3", { class: "sub-h" }, "我的心愿") : null, ...list];
}

async function onWish(ev) {
  ev.preventDefault();
  const f = ev.currentTarget.elements;
  const category = f["wish-category"].value;
  const text = f["wish-text"].value.trim();
  if (!category) {
    ctx.tell("请选择心愿类别", "error");
    return f["wish-category"].focus();
  }
  if (!text) {
    ctx.tell("请写下您的心愿", "error");
    return f["wish-text"].focus();
  }
  const done = await ctx.withBusy(ev.currentTarget.querySelector("button[type=submit]"), async () => {
    await ctx.session.post("/api/v1/me/wishes", { category, text });
    ctx.tell("心愿已提交，实现时会通知您", "ok");
    return true;
  });
  if (done) await ctx.reload("profile").catch(ctx.tellProblem);
  return undefined;
}
