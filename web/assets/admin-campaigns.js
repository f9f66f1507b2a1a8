// 管理后台 · 活动: the campaign list, the new-campaign form with its rules builder, and
// one campaign's detail (试算, 发布/暂停/结束, stats with two inline-SVG charts, the
// 已领取未核销 list and 提醒). Everything shared comes in through `ctx` (see admin.js).

import { el, say, civil, civilDate } from "./api.js";
import * as handouts from "./admin-handouts.js";

const STATUS = { draft: "草稿", published: "已发布", paused: "已暂停", closed: "已结束" };
const REASONS = {
  NOT_A_MEMBER: "不是工会会员",
  NOT_IN_UNION: "不是本工会或下级工会会员",
  OCCUPATION_NOT_COVERED: "职业不在范围内",
  OCCUPATION_NOT_VERIFIED: "职业未经核验",
  REGION_NOT_COVERED: "地区不在范围内",
  NOT_HARDSHIP_ARCHIVED: "不在困难职工档案中",
  MEMBERSHIP_TOO_RECENT: "入会时间不够早",
  NO_MATCHING_WISH: "没有该类未实现的微心愿",
  CAMPAIGN_NOT_OPEN: "活动未开始",
  CAMPAIGN_ENDED: "活动已截止",
  SOLD_OUT: "已领完",
  ALREADY_CLAIMED: "已领过",
};
/** The labelled numbers of the stats; the test reads "已领取 N" and "已核销 N". */
const FIGURES = [
  ["total_stock", "总库存"],
  ["claimed", "已领取"],
  ["redeemed", "已核销"],
  ["issued_unredeemed", "已领取未核销"],
  ["remaining", "剩余"],
  ["unreleased", "待投放"],
  ["expired", "已过期"],
  ["cancelled", "已退回"],
  ["revoked", "已作废"],
];
const COLORS = { claimed: "#1a5fd1", redeemed: "#0a7d36", axis: "#5b6475", grid: "#d6dbe4", ink: "#1d2330" };
const STATS_EVERY_MS = 30000;
let statsTimer = null;

function stopStats() {
  clearInterval(statsTimer);
  statsTimer = null;
}

// ---------------------------------------------------------------- the tab and its list

/** Renders the 活动 tab into `panel`. */
export function campaignsTab(panel, ctx) {
  stopStats();
  const note = ctx.notice();
  const listBox = el("div", {}, el("p", { class: "muted" }, "正在加载…"));
  const work = el("div", { class: "work" });
  const newButton = el("button", { type: "button", "aria-expanded": "false", "aria-controls": "campaign-work" }, "新建活动");
  const reload = el("button", { type: "button", class: "secondary" }, "刷新列表");
  work.id = "campaign-work";
  panel.replaceChildren(el("h2", {}, "活动管理"), el("div", { class: "toolbar" }, newButton, reload), note, listBox, work);
  const v = { ctx, note, listBox, work, newButton, items: null };
  newButton.addEventListener("click", () => openForm(v));
  reload.addEventListener("click", () => ctx.act(reload, note, () => loadList(v)));
  loadList(v).catch((e) => ctx.showError(note, e));
  if (ctx.state.campaignId) openDetail(v, ctx.state.campaignId, false);
}

async function loadList(v, cursor = null) {
  const more = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
  const page = await v.ctx.session.get(`/api/v1/admin/campaigns?limit=100${more}`);
  v.items = cursor && v.items ? v.items.concat(page.items) : page.items;
  v.nextCursor = page.next_cursor;
  renderList(v);
}

function renderList(v) {
  const { ctx } = v;
  if (!v.items) return;
  if (!v.items.length) {
    v.listBox.replaceChildren(el("p", { class: "muted" }, "还没有活动。点“新建活动”创建第一个。"));
    return;
  }
  const rows = v.items.map((c) => {
    const selected = c.id === ctx.state.campaignId;
    return el("tr", { class: selected ? "selected" : "" },
      el("td", {}, el("button", {
        type: "button", class: "link", "aria-current": selected ? "true" : false,
        onclick: () => openDetail(v, c.id, true),
      }, c.title)),
      el("td", {}, statusTag(c.status)),
      el("td", {}, c.item_name),
      el("td", { class: "num" }, `${c.remaining} / ${c.total_stock}`),
      el("td", {}, `${civil(c.claim_starts_at)} 至 ${civil(c.claim_ends_at)}`),
      el("td", {}, ctx.unionName(c.union_id)));
  });
  const parts = [ctx.table("活动列表", ["活动名称", "状态", "物品", "剩余 / 总库存", "领取时间", "所属工会"], rows)];
  if (v.nextCursor) {
    const more = el("button", { type: "button", class: "secondary" }, "加载更多活动");
    more.addEventListener("click", () => ctx.act(more, v.note, () => loadList(v, v.nextCursor)));
    parts.push(el("div", { class: "row actions" }, more));
  }
  v.listBox.replaceChildren(...parts);
}

function statusTag(status) {
  const kind = { published: "ok", paused: "warn", closed: "closed" }[status] || "";
  return el("span", { class: `tag status ${kind}` }, STATUS[status] || status);
}

// ---------------------------------------------------------------- the new-campaign form

function openForm(v) {
  stopStats();
  v.ctx.state.campaignId = null;
  v.ctx.setHash();
  renderList(v);
  v.newButton.setAttribute("aria-expanded", "true");
  const form = campaignForm(v.ctx, {
    saved: async (c) => {
      say(v.note, `草稿保存成功：${c.title}。可以先“试算”看看有多少人符合条件，再“发布”。`, "ok");
      await loadList(v).catch(() => {});
      openDetail(v, c.id, true);
    },
    cancelled: () => {
      v.work.replaceChildren();
      v.newButton.setAttribute("aria-expanded", "false");
      v.newButton.focus();
    },
  });
  v.work.replaceChildren(form);
  form.querySelector("select, input")?.focus();
}

/** A Beijing wall-clock "YYYY-MM-DDTHH:MM", `days` from now, on the hour. */
function civilInputValue(days) {
  const t = new Date(Date.now() + 8 * 3600e3 + days * 86400e3);
  t.setUTCMinutes(0, 0, 0);
  t.setUTCHours(t.getUTCHours() + 1);
  return t.toISOString().slice(0, 16);
}

function input(id, attrs = {}) {
  return el("input", { id, type: "text", ...attrs });
}

function check(id, label, attrs = {}) {
  const box = el("input", { id, type: "checkbox", ...attrs });
  return { box, row: el("span", { class: "check" }, box, el("label", { for: id }, label)) };
}

function campaignForm(ctx, done) {
  const f = {
    union: ctx.unionSelect("cf-union", ctx.defaultUnionId()),
    title: input("cf-title", { required: true, maxlength: "100", autocomplete: "off" }),
    item: input("cf-item", { required: true, maxlength: "100", autocomplete: "off" }),
    description: el("textarea", { id: "cf-description", rows: "3", maxlength: "2000" }),
    stock: input("cf-stock", { type: "number", required: true, min: "1", max: "10000000", inputmode: "numeric" }),
    limit: input("cf-limit", { type: "number", required: true, min: "1", max: "100", value: "1", inputmode: "numeric" }),
    validDays: input("cf-valid-days", { type: "number", min: "1", max: "3650", inputmode: "numeric" }),
    starts: input("cf-starts", { type: "datetime-local", required: true, value: civilInputValue(0) }),
    ends: input("cf-ends", { type: "datetime-local", required: true, value: civilInputValue(7) }),
    until: input("cf-until", { type: "datetime-local", required: true, value: civilInputValue(30) }),
    stations: el("div", {}),
  };
  const note = ctx.notice();
  const save = el("button", { type: "submit" }, "保存草稿");
  const cancel = el("button", { type: "button", class: "secondary", onclick: done.cancelled }, "取消");
  const form = el("form", { class: "card", "aria-labelledby": "cf-h" },
    el("h3", { id: "cf-h" }, "新建活动"),
    el("div", { class: "form-grid" },
      ctx.field("所属工会", f.union),
      ctx.field("活动名称", f.title, "如：2026 年冬送温暖暖心礼包"),
      ctx.field("物品", f.item, "如：暖心礼包、米面油提货券"),
      ctx.field("总库存", f.stock),
      ctx.field("每人限领", f.limit),
      handouts.modeFields(ctx, f),
      ctx.field("券有效天数", f.validDays, "可不填：不填则有效到核销截止")),
    ctx.field("说明", f.description),
    el("fieldset", {},
      el("legend", {}, "时间（北京时间）"),
      el("div", { class: "form-grid" },
        ctx.field("领取开始", f.starts),
        ctx.field("领取截止", f.ends),
        ctx.field("核销截止", f.until))),
    el("fieldset", {}, el("legend", {}, "核销驿站"),
      el("p", { class: "hint" }, "职工可以到这些驿站领取物品（发布前至少选一个）。"), f.stations),
    rulesFieldset(ctx, f),
    el("div", { class: "row actions" }, save, cancel),
    note);
  f.union.addEventListener("change", () => ctx.stationChecks(f.stations, f.union.value, "cf"));
  ctx.stationChecks(f.stations, f.union.value, "cf");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    for (const bad of form.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
    let body;
    try {
      body = campaignBody(f);
    } catch (problem) {
      if (!problem.control) throw problem;
      say(note, problem.message, "error");
      problem.control.setAttribute("aria-invalid", "true");
      problem.control.focus();
      return;
    }
    ctx.act(save, note, async () => done.saved(await ctx.session.post("/api/v1/admin/campaigns", body)));
  });
  return form;
}

/** The rules builder: one control per rule type, never raw JSON. */
function rulesFieldset(ctx, f) {
  const member = check("r-member", "须为工会会员");
  const memberOf = check("r-member-of", "须为本工会或下级工会会员");
  const occ = check("r-occupation", "职业须为", { "aria-controls": "r-occupations" });
  const verified = check("r-verified", "职业须经核验");
  const hardship = check("r-hardship", "须在困难职工档案中");
  const occupations = Object.entries(ctx.OCCUPATIONS).map(([code, name]) => check(`r-occ-${code}`, name, { value: code }));
  f.rules = { member: member.box, memberOf: memberOf.box, occ: occ.box, verified: verified.box, hardship: hardship.box };
  f.occupations = occupations.map((o) => o.box);
  f.region = input("r-region", { autocomplete: "off", inputmode: "numeric", pattern: "[0-9,，、 ]*" });
  f.since = input("r-since", { type: "date" });
  for (const o of f.occupations) {
    o.addEventListener("change", () => {
      occ.box.checked = f.occupations.some((x) => x.checked);
    });
  }
  occ.box.addEventListener("change", () => {
    if (!occ.box.checked) for (const o of f.occupations) o.checked = false;
  });
  return el("fieldset", { class: "rules" },
    el("legend", {}, "领取条件"),
    el("p", { class: "hint" }, "勾选的条件须全部满足；都不勾选则所有注册职工都能领取。"),
    member.row,
    memberOf.row,
    occ.row,
    el("fieldset", { id: "r-occupations", class: "sub" },
      el("legend", { class: "visually-hidden" }, "职业"),
      el("div", { class: "checks" }, occupations.map((o) => o.row))),
    verified.row,
    hardship.row,
    handouts.wishedRule(f),
    el("div", { class: "form-grid" },
      ctx.field("地区", f.region, "地区代码，多个用逗号分开，如 331004,3310（3310 即台州市全部区县）；留空则不限"),
      ctx.field("入会早于", f.since, "留空则不限")));
}

class FormProblem extends Error {
  constructor(control, message) {
    super(message);
    this.control = control;
  }
}

/** "2026-12-01T09:00" → "2026-12-01T09:00:00", read by the API as Beijing time. */
function civilValue(control) {
  const v = control.value;
  return v.length === 16 ? `${v}:00` : v;
}

function campaignBody(f) {
  const starts = civilValue(f.starts);
  const ends = civilValue(f.ends);
  const until = civilValue(f.until);
  if (ends <= starts) throw new FormProblem(f.ends, "领取截止要晚于领取开始");
  if (until < ends) throw new FormProblem(f.until, "核销截止不能早于领取截止");
  const body = {
    union_id: f.union.value,
    title: f.title.value.trim(),
    item_name: f.item.value.trim(),
    total_stock: Number(f.stock.value),
    per_worker_limit: Number(f.limit.value),
    claim_starts_at: starts,
    claim_ends_at: ends,
    redeem_until: until,
    station_ids: [...f.stations.querySelectorAll("input:checked")].map((c) => c.value),
    rules: collectRules(f),
  };
  const description = f.description.value.trim();
  if (description) body.description = description;
  if (f.validDays.value) body.voucher_valid_days = Number(f.validDays.value);
  handouts.applyMode(f, body);
  return body;
}

function collectRules(f) {
  const r = f.rules;
  const rules = [];
  if (r.member.checked) rules.push({ type: "membership_required" });
  if (r.memberOf.checked) rules.push({ type: "member_of", union_id: f.union.value });
  const occupations = f.occupations.filter((o) => o.checked).map((o) => o.value);
  if (r.occ.checked || occupations.length) {
    if (!occupations.length) throw new FormProblem(f.occupations[0], "勾选了“职业须为”，请至少选一种职业");
    rules.push({ type: "occupation_in", values: occupations });
  }
  if (r.verified.checked) rules.push({ type: "occupation_verified" });
  const regions = f.region.value.split(/[\s,，、;；]+/).filter(Boolean);
  const bad = regions.find((code) => !/^[0-9]{2,6}$/.test(code));
  if (bad) throw new FormProblem(f.region, `地区代码“${bad}”不对：应为 2 到 6 位数字`);
  if (regions.length) rules.push({ type: "region_in", values: regions });
  if (r.hardship.checked) rules.push({ type: "hardship_archived" });
  if (f.since.value) rules.push({ type: "member_since_before", date: f.since.value });
  const wished = handouts.collectWished(f);
  if (wished) rules.push(wished);
  return rules;
}

// ---------------------------------------------------------------- one campaign

async function openDetail(v, id, focus) {
  stopStats();
  const { ctx } = v;
  ctx.state.campaignId = id;
  ctx.setHash();
  v.newButton.setAttribute("aria-expanded", "false");
  renderList(v);
  const box = el("section", { class: "card detail", "aria-labelledby": "detail-h" }, el("p", { class: "muted" }, "正在加载活动…"));
  v.work.replaceChildren(box);
  let c;
  try {
    c = await ctx.session.get(`/api/v1/campaigns/${id}`);
  } catch (e) {
    const n = ctx.notice();
    box.replaceChildren(n);
    ctx.showError(n, e);
    if (e.status === 404) {
      ctx.state.campaignId = null;
      ctx.setHash();
    }
    return;
  }
  const d = {
    v, ctx, box, c,
    top: el("div", {}),
    note: ctx.notice(),
    dry: el("div", {}),
    stats: el("div", { class: "stats" }, el("p", { class: "muted" }, "正在加载数据…")),
    unredeemed: el("div", {}),
  };
  const refresh = el("button", { type: "button", class: "secondary" }, "刷新数据");
  refresh.addEventListener("click", () => ctx.act(refresh, d.note, () => Promise.all([loadStats(d, true), loadUnredeemed(d)])));
  box.replaceChildren(d.top, d.note, d.dry,
    el("div", { class: "section-head" }, el("h4", {}, "领取与核销"), refresh),
    d.stats,
    el("h4", {}, "已领取未核销"),
    remindRow(d),
    d.unredeemed);
  renderTop(d);
  if (focus) document.getElementById("detail-h")?.focus();
  loadStats(d, false);
  loadUnredeemed(d);
  statsTimer = setInterval(() => {
    if (!box.isConnected) return stopStats();
    if (document.visibilityState === "visible") loadStats(d, false);
  }, STATS_EVERY_MS);
}

/** Title, status, facts and the actions the status allows. */
function renderTop(d, focusIndex = -1) {
  const { c, ctx } = d;
  const actions = lifecycleButtons(d);
  d.top.replaceChildren(
    el("div", { class: "detail-head" }, el("h3", { id: "detail-h", tabindex: "-1" }, c.title), statusTag(c.status)),
    facts(ctx, c),
    el("div", { class: "row actions" }, actions),
    c.status === "closed" ? null : el("p", { class: "hint" }, "“结束”后活动不能再恢复；只想临时停止领取请用“暂停”。"));
  if (focusIndex >= 0) (actions[focusIndex] || actions[0]).focus();
}

function facts(ctx, c) {
  const stations = (c.stations || []).map((s) => s.name).join("、") || "未选（发布前须至少选一个）";
  const rows = [
    ["物品", c.item_name],
    ...handouts.modeFacts(c),
    ["所属工会", ctx.unionName(c.union_id)],
    ["每人限领", `${c.per_worker_limit} 份`],
    ["领取时间", `${civil(c.claim_starts_at)} 至 ${civil(c.claim_ends_at)}`],
    ["核销截止", civil(c.redeem_until)],
    ["券有效期", c.voucher_valid_days ? `领取后 ${c.voucher_valid_days} 天（不超过核销截止）` : "到核销截止"],
    ["核销驿站", stations],
    ["说明", c.description || "—"],
  ];
  const ruleList = describeRules(ctx, c.rules || []);
  return el("dl", { class: "facts" },
    rows.flatMap(([k, val]) => [el("dt", {}, k), el("dd", {}, val)]),
    el("dt", {}, "领取条件"),
    el("dd", {}, ruleList.length ? el("ul", { class: "rule-list" }, ruleList.map((t) => el("li", {}, t))) : "不限：所有注册职工都能领取"));
}

function describeRules(ctx, rules) {
  return rules.map((r) => {
    switch (r.type) {
      case "membership_required": return "须为工会会员";
      case "member_of": return `须为${ctx.unionName(r.union_id)}或下级工会会员`;
      case "occupation_in": return `职业须为：${r.values.map((o) => ctx.OCCUPATIONS[o] || o).join("、")}`;
      case "occupation_verified": return "职业须经核验";
      case "region_in": return `地区：${r.values.join("、")}`;
      case "hardship_archived": return "须在困难职工档案中";
      case "member_since_before": return `入会早于 ${r.date}`;
      case "wished": return handouts.describeWished(r);
      default: return r.type;
    }
  });
}

function lifecycleButtons(d) {
  const s = d.c.status;
  const dry = el("button", { type: "button", class: "secondary" }, "试算");
  dry.addEventListener("click", () => d.ctx.act(dry, d.note, () => dryRun(d)));
  const defs = [
    ["发布", "publish", s === "draft" || s === "paused", "发布成功：职工现在可以看到并领取这个活动。"],
    ["暂停", "pause", s === "published", "暂停成功：职工暂时不能领取，已领的券照常核销。"],
    ["结束", "close", s !== "closed", "结束成功：活动不再接受领取。"],
  ];
  const buttons = [dry];
  for (const [label, verb, allowed, done] of defs) {
    if (!allowed) continue;
    const b = el("button", { type: "button", class: verb === "close" ? "danger" : "" }, label);
    const index = buttons.length;
    b.addEventListener("click", () => d.ctx.act(b, d.note, async () => {
      const updated = await d.ctx.session.post(`/api/v1/admin/campaigns/${d.c.id}/${verb}`, {});
      d.c = { ...d.c, ...updated };
      renderTop(d, index);
      say(d.note, handouts.publishSaid(d.c, verb, updated) || done, "ok");
      loadList(d.v).catch(() => {});
    }));
    buttons.push(b);
  }
  const topUp = handouts.topUpButton(d, () => loadStats(d, false));
  if (topUp) buttons.push(topUp);
  return buttons;
}

async function dryRun(d) {
  const r = await d.ctx.session.get(`/api/v1/admin/campaigns/${d.c.id}/dry-run`);
  const unmet = Object.entries(r.unmet || {}).sort((a, b) => b[1] - a[1]);
  const left = r.members_considered - r.admitted;
  d.dry.replaceChildren(el("div", { class: "dry-run" },
    el("h4", {}, "试算结果"),
    el("ul", { class: "figures" },
      figure("considered", "参与试算的会员", r.members_considered),
      figure("admitted", "符合条件", r.admitted),
      figure("left", "不符合", left)),
    unmet.length
      ? d.ctx.table("不符合的原因", ["未满足的条件", "人数"], unmet.map(([code, n]) =>
        el("tr", {}, el("td", {}, REASONS[code] || code), el("td", { class: "num" }, String(n)))))
      : null,
    el("p", { class: "hint" }, "只统计本工会及下级工会的现有会员；一人可能有多条条件不满足。试算不改变任何数据。")));
  say(d.note, `试算完成：${r.members_considered} 名会员中有 ${r.admitted} 人符合条件。`, "ok");
}

function figure(key, label, n) {
  return el("li", { class: `figure figure-${key}` },
    el("span", { class: "figure-label" }, label), " ", el("span", { class: "figure-num" }, String(n ?? 0)));
}

// ---------------------------------------------------------------- stats and charts

async function loadStats(d, loud) {
  try {
    const s = await d.ctx.session.get(`/api/v1/admin/campaigns/${d.c.id}/stats`);
    renderStats(d, s);
    if (loud) say(d.note, `数据已刷新（${civil(s.as_of)}）`, "ok");
  } catch (e) {
    if (loud) throw e;
    const n = d.ctx.notice();
    d.stats.replaceChildren(n);
    d.ctx.showError(n, e);
  }
}

function renderStats(d, s) {
  const open = new Set([...d.stats.querySelectorAll("details[open]")].map((x) => x.dataset.key));
  const rate = s.claimed ? Math.round((s.redeemed * 100) / s.claimed) : 0;
  const charts = [];
  if (Array.isArray(s.timeline)) charts.push(timelineFigure(s.timeline));
  if (Array.isArray(s.by_station)) charts.push(stationFigure(s.by_station, d.c.stations || []));
  d.stats.replaceChildren(
    el("ul", { class: "figures" },
      FIGURES.map(([key, label]) => figure(key, label, s[key])),
      el("li", { class: "figure figure-rate" }, el("span", { class: "figure-label" }, "核销率"), " ", el("span", { class: "figure-num" }, `${rate}%`))),
    el("p", { class: "muted small" },
      `数据时间 ${civil(s.as_of)}（每 30 秒自动更新）`,
      s.next_release_at ? `；下一批库存 ${civil(s.next_release_at)} 投放` : ""),
    handouts.handoutStats(d.ctx, s, d.c.stations || []),
    charts.length ? el("div", { class: "charts" }, charts) : null);
  for (const x of d.stats.querySelectorAll("details")) x.open = open.has(x.dataset.key);
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, val] of Object.entries(attrs)) node.setAttribute(k, String(val));
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function niceMax(max) {
  if (max <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/** Hourly buckets (gaps filled) for up to three days, else daily buckets, in Beijing time. */
function buckets(timeline) {
  const H = 3600e3;
  const rows = timeline
    .map((t) => ({ at: Date.parse(t.hour), claimed: Number(t.claimed) || 0, redeemed: Number(t.redeemed) || 0 }))
    .filter((r) => !Number.isNaN(r.at))
    .sort((a, b) => a.at - b.at);
  if (!rows.length) return { unit: "小时", list: [] };
  const hourly = (rows[rows.length - 1].at - rows[0].at) / H <= 72;
  const keyOf = hourly ? (at) => civil(new Date(at).toISOString()).slice(5) : (at) => civilDate(new Date(at).toISOString()).slice(5);
  const map = new Map();
  const step = hourly ? H : 24 * H;
  const first = hourly ? rows[0].at : rows[0].at - ((rows[0].at + 8 * H) % (24 * H));
  for (let t = first; t <= rows[rows.length - 1].at; t += step) map.set(keyOf(t), { label: keyOf(t), claimed: 0, redeemed: 0 });
  for (const r of rows) {
    const b = map.get(keyOf(r.at)) || { label: keyOf(r.at), claimed: 0, redeemed: 0 };
    b.claimed += r.claimed;
    b.redeemed += r.redeemed;
    map.set(b.label, b);
  }
  return { unit: hourly ? "小时" : "天", list: [...map.values()] };
}

/** A chart in a <figure>, with a caption, a legend and its numbers as a table. */
function chartFigure(key, caption, chart, legend, tableNode) {
  return el("figure", { class: "chart" },
    el("figcaption", {}, caption),
    legend,
    chart,
    el("details", { "data-key": key }, el("summary", {}, "查看数据表"), tableNode));
}

function timelineFigure(timeline) {
  const { unit, list } = buckets(timeline);
  const caption = `每${unit}领取与核销（北京时间）`;
  if (!list.length) return el("figure", { class: "chart" }, el("figcaption", {}, caption), el("p", { class: "muted" }, "还没有领取或核销记录。"));
  const sum = (k) => list.reduce((n, b) => n + b[k], 0);
  const peak = list.reduce((a, b) => (b.claimed > a.claimed ? b : a), list[0]);
  const summary = `${list[0].label} 至 ${list[list.length - 1].label}，共 ${list.length} 个时段；领取合计 ${sum("claimed")}，核销合计 ${sum("redeemed")}；领取最多的时段是 ${peak.label}（${peak.claimed}）。`;
  const series = [["claimed", "领取"], ["redeemed", "核销"]];
  const legend = el("p", { class: "legend", "aria-hidden": "true" },
    series.map(([k, label]) => el("span", { class: `key key-${k}` }, label)));
  const tableNode = el("table", {},
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "时段"), el("th", { scope: "col" }, "领取数"), el("th", { scope: "col" }, "核销数"))),
    el("tbody", {}, list.map((b) => el("tr", {}, el("th", { scope: "row" }, b.label), el("td", { class: "num" }, String(b.claimed)), el("td", { class: "num" }, String(b.redeemed))))));
  return chartFigure("timeline", caption, columnChart("chart-timeline", caption, summary, list, series), legend, tableNode);
}

/** Grouped columns, one group per bucket. */
function columnChart(id, title, summary, list, series) {
  const W = 640, H = 260, m = { l: 44, r: 10, t: 14, b: 44 };
  const plotW = W - m.l - m.r, plotH = H - m.t - m.b;
  const max = niceMax(Math.max(1, ...list.flatMap((b) => series.map(([k]) => b[k]))));
  const slot = plotW / list.length;
  const barW = Math.max(1, Math.min(22, (slot * 0.8) / series.length));
  const y = (val) => m.t + plotH - (val / max) * plotH;
  const ticks = max >= 2 ? [0, max / 2, max] : [0, max];
  const every = Math.ceil(list.length / 8);
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-t ${id}-d`, class: "chart-svg", preserveAspectRatio: "xMidYMid meet" },
    svg("title", { id: `${id}-t` }, title),
    svg("desc", { id: `${id}-d` }, summary),
    ticks.map((tk) => svg("g", {},
      svg("line", { x1: m.l, x2: W - m.r, y1: y(tk), y2: y(tk), stroke: COLORS.grid }),
      svg("text", { x: m.l - 6, y: y(tk) + 4, "text-anchor": "end", "font-size": 12, fill: COLORS.axis }, String(tk)))),
    list.map((b, i) => {
      const x0 = m.l + i * slot + (slot - barW * series.length) / 2;
      return svg("g", {},
        series.map(([k, label], j) => svg("rect", {
          x: x0 + j * barW, y: y(b[k]), width: Math.max(barW - 1, 1), height: Math.max(0, m.t + plotH - y(b[k])), fill: COLORS[k],
        }, svg("title", {}, `${b.label} ${label} ${b[k]}`))),
        i % every === 0
          ? svg("text", { x: m.l + i * slot + slot / 2, y: H - m.b + 18, "text-anchor": "middle", "font-size": 11, fill: COLORS.axis }, b.label)
          : null);
    }),
    svg("line", { x1: m.l, x2: W - m.r, y1: m.t + plotH, y2: m.t + plotH, stroke: COLORS.axis }));
}

function stationFigure(byStation, stations) {
  const names = new Map(stations.map((s) => [s.id, s.name]));
  const counts = new Map(stations.map((s) => [s.id, 0]));
  for (const r of byStation) counts.set(r.station_id, (counts.get(r.station_id) || 0) + (Number(r.redeemed) || 0));
  const list = [...counts].map(([id, n]) => ({ label: names.get(id) || "其他驿站", value: n })).sort((a, b) => b.value - a.value);
  const caption = "各驿站核销数量";
  if (!list.length) return el("figure", { class: "chart" }, el("figcaption", {}, caption), el("p", { class: "muted" }, "这个活动还没有核销驿站。"));
  const summary = `${list.map((r) => `${r.label} ${r.value}`).join("，")}。`;
  const tableNode = el("table", {},
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "驿站"), el("th", { scope: "col" }, "核销数"))),
    el("tbody", {}, list.map((r) => el("tr", {}, el("th", { scope: "row" }, r.label), el("td", { class: "num" }, String(r.value))))));
  return chartFigure("stations", caption, barChart("chart-stations", caption, summary, list), null, tableNode);
}

/** Horizontal bars, one per station, the name on the left and the count at the end. */
function barChart(id, title, summary, list) {
  const row = 30, W = 640, m = { l: 170, r: 48, t: 8, b: 8 };
  const H = m.t + m.b + row * list.length;
  const max = niceMax(Math.max(1, ...list.map((r) => r.value)));
  const plotW = W - m.l - m.r;
  const short = (s) => (s.length > 11 ? `${s.slice(0, 10)}…` : s);
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-t ${id}-d`, class: "chart-svg", preserveAspectRatio: "xMidYMid meet" },
    svg("title", { id: `${id}-t` }, title),
    svg("desc", { id: `${id}-d` }, summary),
    list.map((r, i) => {
      const y = m.t + i * row;
      const w = (r.value / max) * plotW;
      return svg("g", {},
        svg("title", {}, `${r.label} ${r.value}`),
        svg("text", { x: m.l - 8, y: y + row / 2 + 5, "text-anchor": "end", "font-size": 13, fill: COLORS.ink }, short(r.label)),
        svg("rect", { x: m.l, y: y + 5, width: Math.max(w, r.value ? 2 : 0), height: row - 10, fill: COLORS.redeemed }),
        svg("text", { x: m.l + w + 6, y: y + row / 2 + 5, "font-size": 13, fill: COLORS.ink }, String(r.value)));
    }),
    svg("line", { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, stroke: COLORS.axis }));
}

// ---------------------------------------------------------------- 已领取未核销 and 提醒

function remindRow(d) {
  const remind = el("button", { type: "button", "aria-describedby": "remind-hint" }, "提醒");
  const answer = d.ctx.notice();
  remind.addEventListener("click", () => d.ctx.act(remind, answer, async () => {
    const r = await d.ctx.session.post(`/api/v1/admin/campaigns/${d.c.id}/reminders`, {});
    const n = r?.queued ?? 0;
    say(answer, n ? `提醒已发出：${n} 人会收到消息。` : "这次没有需要提醒的人（24 小时内已提醒过的不再重复）。", "ok");
  }));
  return el("div", {},
    el("div", { class: "row" }, remind,
      el("span", { id: "remind-hint", class: "hint" }, "给所有领了券还没核销、券未过期的职工发一条消息；同一张券 24 小时内只提醒一次。")),
    answer);
}

async function loadUnredeemed(d, cursor = null, rows = null) {
  const { ctx } = d;
  const more = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
  let page;
  try {
    page = await ctx.session.get(`/api/v1/admin/campaigns/${d.c.id}/vouchers?status=issued&limit=50${more}`);
  } catch (e) {
    const n = ctx.notice();
    d.unredeemed.replaceChildren(n);
    ctx.showError(n, e);
    return;
  }
  const list = rows || [];
  const soon = Date.now() + 3 * 86400e3;
  for (const x of page.items) {
    list.push(el("tr", {},
      el("td", {}, x.holder_name_masked),
      el("td", {}, x.holder_phone_masked),
      el("td", {}, civil(x.issued_at)),
      el("td", {}, civil(x.expires_at), Date.parse(x.expires_at) < soon ? el("span", { class: "tag bad" }, "即将过期") : null)));
  }
  if (!list.length) {
    d.unredeemed.replaceChildren(el("p", { class: "muted" }, "没有领了券还没核销的人。"));
    return;
  }
  const parts = [
    el("p", { class: "muted small" }, `列出 ${list.length} 张${page.next_cursor ? "（还有更多）" : ""}`),
    ctx.table("已领取未核销的券", ["持券人", "手机号", "领取时间", "有效期至"], list),
  ];
  if (page.next_cursor) {
    const moreButton = el("button", { type: "button", class: "secondary" }, "加载更多");
    moreButton.addEventListener("click", () => ctx.act(moreButton, d.note, () => loadUnredeemed(d, page.next_cursor, list)));
    parts.push(el("div", { class: "row actions" }, moreButton));
  }
  d.unredeemed.replaceChildren(...parts);
}
