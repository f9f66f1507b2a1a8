// 管理后台, the other ways goods are handed out: 发放方式 (职工领取 / 精准发放) and 领取方式
// (驿站领取 / 送货上门) in the new-campaign form, the 微心愿 rule, 补发 for an allocation,
// the numbers of deliveries and ratings in a campaign's stats, and the 微心愿 tab.
// admin-campaigns.js and admin.js call these; shared helpers come in through `ctx`.

import { el, say, civil } from "./api.js";

export const WISH_LABELS = {
  warmth: "防寒保暖",
  food: "米面粮油",
  daily: "生活用品",
  health: "医疗健康",
  tools: "工作用具",
  other: "其他",
};
const MODES = { claim: "职工领取", allocate: "精准发放" };
const FULFILMENTS = { pickup: "驿站领取", delivery: "送货上门" };

function options(map, selected) {
  return Object.entries(map).map(([value, label]) => el("option", { value, selected: value === selected }, label));
}

// ---------------------------------------------------------------- the new-campaign form

/** The 发放方式 and 领取方式 selects (into `f.mode`, `f.fulfilment`); allocate means one each. */
export function modeFields(ctx, f) {
  f.mode = el("select", { id: "cf-mode" }, options(MODES, "claim"));
  f.fulfilment = el("select", { id: "cf-fulfilment" }, options(FULFILMENTS, "pickup"));
  f.mode.addEventListener("change", () => {
    const allocate = f.mode.value === "allocate";
    if (allocate) f.limit.value = "1";
    f.limit.disabled = allocate;
  });
  return [
    ctx.field("发放方式", f.mode, "精准发放：发布时按领取条件直接发给每个符合条件的会员（每人 1 份），无需职工领取"),
    ctx.field("领取方式", f.fulfilment, "送货上门：所选驿站的核销员看到收货地址，送到后确认送达"),
  ];
}

export function applyMode(f, body) {
  body.mode = f.mode.value;
  body.fulfilment = f.fulfilment.value;
  if (body.mode === "allocate") body.per_worker_limit = 1;
}

/** The 微心愿 rule: a checkbox and the category it asks for. */
export function wishedRule(f) {
  f.wished = el("input", { id: "r-wished", type: "checkbox", "aria-controls": "r-wish-category" });
  f.wishCategory = el("select", { id: "r-wish-category", "aria-label": "微心愿类别" }, options(WISH_LABELS, "warmth"));
  f.wishCategory.addEventListener("change", () => {
    f.wished.checked = true;
  });
  return el(
    "div",
    { class: "check wished" },
    f.wished,
    el("label", { for: "r-wished" }, "须有未实现的微心愿，类别为"),
    f.wishCategory,
  );
}

export function collectWished(f) {
  return f.wished?.checked ? { type: "wished", category: f.wishCategory.value } : null;
}

export function describeWished(r) {
  return `须有未实现的微心愿：${WISH_LABELS[r.category] || r.category}`;
}

// ---------------------------------------------------------------- one campaign

export function modeFacts(c) {
  return [
    ["发放方式", MODES[c.mode] || MODES.claim],
    ["领取方式", FULFILMENTS[c.fulfilment] || FULFILMENTS.pickup],
  ];
}

/** What publishing an allocate campaign did, or null for the usual words. */
export function publishSaid(c, verb, answer) {
  if (verb !== "publish" || c.mode !== "allocate") return null;
  const n = answer?.allocated ?? 0;
  return `发布成功：已发放 ${n} 份，符合条件的职工已收到通知${c.fulfilment === "delivery" ? "，驿站可以开始送货上门" : ""}。`;
}

/** 补发: for a published allocate campaign, vouchers for those admitted since. */
export function topUpButton(d, after) {
  if (d.c.mode !== "allocate" || d.c.status !== "published") return null;
  const b = el("button", { type: "button", class: "secondary", title: "给发布后新符合条件的会员补发（已发过的不会重复）" }, "补发");
  b.addEventListener("click", () => d.ctx.act(b, d.note, async () => {
    const r = await d.ctx.session.post(`/api/v1/admin/campaigns/${d.c.id}/allocate`, {});
    say(d.note, r.allocated ? `已补发 ${r.allocated} 份。` : `已补发 0 份：符合条件的 ${r.admitted ?? 0} 人都已发放过。`, "ok");
    after();
  }));
  return b;
}

// ---------------------------------------------------------------- stats

function figure(key, label, value) {
  return el("li", { class: `figure figure-${key}` },
    el("span", { class: "figure-label" }, label), " ", el("span", { class: "figure-num" }, String(value)));
}

function percent(share) {
  return share === null || share === undefined ? "—" : `${Math.round(Number(share) * 100)}%`;
}

function average(avg) {
  return avg === null || avg === undefined ? "—" : Number(avg).toFixed(2);
}

/** 送达, 按日送达 and 评价 (campaign-wide and per station), under the stats' figures. */
export function handoutStats(ctx, s, stations) {
  const rating = s.rating || { count: 0, average: null, full_marks_share: null };
  const days = Array.isArray(s.delivered_by_day) ? s.delivered_by_day : [];
  const parts = [
    el("ul", { class: "figures" },
      figure("delivered", "送达", s.delivered ?? 0),
      figure("ratings", "评价", rating.count ?? 0),
      figure("average", "平均评分", average(rating.average)),
      figure("full-marks", "五星好评", percent(rating.full_marks_share))),
  ];
  if (days.length) {
    const max = Math.max(1, ...days.map((x) => Number(x.delivered) || 0));
    parts.push(el("figure", { class: "chart by-day" },
      el("figcaption", {}, "按日送达（北京时间）"),
      ctx.table("按日送达", ["日期", "送达", ""], days.map((x) => el("tr", {},
        el("th", { scope: "row" }, x.date),
        el("td", { class: "num" }, String(x.delivered)),
        el("td", {}, el("progress", { max: String(max), value: String(x.delivered), "aria-label": `${x.date} 送达 ${x.delivered}` })))))));
  }
  const names = new Map(stations.map((st) => [st.id, st.name]));
  const rows = (s.by_station || []).filter((r) => r.redeemed || r.rating?.count);
  if (rows.length) {
    parts.push(el("details", { "data-key": "station-ratings" },
      el("summary", {}, "各驿站的评价"),
      ctx.table("各驿站的评价", ["驿站", "核销（含送达）", "评价数", "平均评分", "五星好评"], rows.map((r) => el("tr", {},
        el("th", { scope: "row" }, names.get(r.station_id) || "其他驿站"),
        el("td", { class: "num" }, String(r.redeemed ?? 0)),
        el("td", { class: "num" }, String(r.rating?.count ?? 0)),
        el("td", { class: "num" }, average(r.rating?.average)),
        el("td", { class: "num" }, percent(r.rating?.full_marks_share)))))));
  }
  return el("div", { class: "handout-stats" }, parts);
}

// ---------------------------------------------------------------- the 微心愿 tab

export function wishesTab(panel, ctx) {
  const note = ctx.notice();
  const union = ctx.unionSelect("ws-union", ctx.defaultUnionId());
  const reload = el("button", { type: "button", class: "secondary" }, "刷新");
  const body = el("div", {}, el("p", { class: "muted" }, "正在加载…"));
  const load = () => loadWishes(ctx, union.value, body);
  union.addEventListener("change", () => load().catch((e) => ctx.showError(note, e)));
  reload.addEventListener("click", () => ctx.act(reload, note, load));
  panel.replaceChildren(
    el("h2", { id: "wishes-h", tabindex: "-1" }, "微心愿"),
    el("p", { class: "muted" }, "会员提交的、还没实现的心愿，按类别和职业计数（不含姓名和心愿原文）。新建活动时勾选“须有未实现的微心愿”即可对口发放；券核销或送达后心愿自动标为已实现。"),
    el("div", { class: "toolbar" }, ctx.field("工会", union, "包括下级工会的会员"), reload),
    note,
    body,
  );
  load().catch((e) => ctx.showError(note, e));
}

async function loadWishes(ctx, unionId, body) {
  const q = unionId ? `?union_id=${encodeURIComponent(unionId)}` : "";
  const w = await ctx.session.get(`/api/v1/admin/wishes/summary${q}`);
  const occName = (o) => (o ? ctx.OCCUPATIONS[o] || o : "未填职业");
  const catName = (c, label) => label || WISH_LABELS[c] || c;
  if (!w.open) {
    body.replaceChildren(el("ul", { class: "figures" }, figure("wishes", "待实现的心愿", 0)),
      el("p", { class: "muted" }, "这个工会及下级工会的会员现在没有待实现的心愿。"));
    return;
  }
  const cats = (w.by_category || []).filter((x) => x.count);
  const occs = (w.by_occupation || []).filter((x) => x.count);
  const cell = new Map((w.cells || []).map((x) => [`${x.category}|${x.occupation ?? ""}`, x.count]));
  const matrix = cats.map((c) => el("tr", {},
    el("th", { scope: "row" }, catName(c.category, c.label)),
    occs.map((o) => el("td", { class: "num" }, String(cell.get(`${c.category}|${o.occupation ?? ""}`) || 0))),
    el("td", { class: "num" }, el("strong", {}, String(c.count)))));
  body.replaceChildren(
    el("ul", { class: "figures" }, figure("wishes", "待实现的心愿", w.open)),
    el("div", { class: "grid" },
      el("div", {}, el("h3", {}, "按类别"), ctx.table("按类别", ["类别", "人数"], cats.map((c) =>
        el("tr", {}, el("th", { scope: "row" }, catName(c.category, c.label)), el("td", { class: "num" }, String(c.count)))))),
      el("div", {}, el("h3", {}, "按职业"), ctx.table("按职业", ["职业", "人数"], occs.map((o) =>
        el("tr", {}, el("th", { scope: "row" }, occName(o.occupation)), el("td", { class: "num" }, String(o.count))))))),
    el("h3", {}, "类别 × 职业"),
    ctx.table("类别与职业交叉", ["类别", ...occs.map((o) => occName(o.occupation)), "合计"], matrix),
    el("p", { class: "muted small" }, `数据时间 ${civil(new Date().toISOString())}`),
  );
}
