// 管理后台: sign-in, the four tabs (活动, 入会审批, 职员, 导出) and what they share.
// The 活动 tab (list, new-campaign form, detail with stats and charts) is in
// admin-campaigns.js; this file gives it a context object instead of globals.

import { Session, ApiProblem, el, say, civil, civilDate, uuid } from "./api.js";
import { campaignsTab } from "./admin-campaigns.js";
import { wishesTab } from "./admin-handouts.js";

const session = new Session("admin");
const view = document.getElementById("view");
const pageNotice = document.getElementById("page-notice");
const who = document.getElementById("who");
const logoutButton = document.getElementById("logout");

const ADMIN_ROLES = ["union_admin", "platform_admin"];
const ROLE_NAMES = { union_admin: "工会管理员", platform_admin: "平台管理员", counter: "核销员", worker: "职工" };
const OCCUPATIONS = {
  courier: "快递员",
  food_delivery: "外卖配送员",
  ride_hailing: "网约车司机",
  truck_driver: "货车司机",
  sanitation: "环卫工人",
  domestic: "家政服务员",
  other: "其他",
};
/** Body fields as a person knows them, for INVALID_REQUEST `errors`. */
const FIELD_NAMES = {
  union_id: "所属工会", title: "活动名称", item_name: "物品", description: "说明", total_stock: "总库存",
  per_worker_limit: "每人限领", claim_starts_at: "领取开始", claim_ends_at: "领取截止", redeem_until: "核销截止",
  station_ids: "核销驿站", voucher_valid_days: "券有效天数", rules: "领取条件", reason: "拒绝原因",
  phone: "手机号", password: "密码", name: "姓名", role: "角色", new_password: "新密码",
  current_password: "当前密码", mode: "发放方式", fulfilment: "领取方式",
};
const TABS = [
  ["campaigns", "活动"],
  ["applications", "入会审批"],
  ["staff", "职员"],
  ["wishes", "微心愿"],
  ["exports", "导出"],
];

const state = { me: null, unions: [], unionById: new Map(), tree: [], tab: "campaigns", campaignId: null };

// ---------------------------------------------------------------- shared helpers

/** The sentence for a problem, with each refused field named in Chinese. */
function problemText(e) {
  if (!(e instanceof ApiProblem)) return `出错了：${e?.message || e}`;
  let text = e.sentence;
  const errors = Array.isArray(e.body.errors) ? e.body.errors : [];
  const extra = errors
    .map((x) => {
      const key = String(x.field || "").split(/[.[]/)[0];
      return `${FIELD_NAMES[key] || x.field}：${x.message}`;
    })
    .filter((s) => !text.includes(s));
  if (extra.length) text += `（${extra.join("；")}）`;
  return text;
}

function showError(region, e) {
  say(region, problemText(e), "error");
}

/** A live region for one part of the page. */
function notice() {
  return el("p", { class: "notice", role: "status", "aria-live": "polite" });
}

/** Runs one button's work once at a time, keeping focus on it; errors go to `region`. */
async function act(button, region, fn) {
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  button.setAttribute("aria-busy", "true");
  try {
    await fn();
  } catch (e) {
    showError(region, e);
  } finally {
    button.removeAttribute("aria-disabled");
    button.removeAttribute("aria-busy");
  }
}

/** Every page of a list (at most `pages` pages of 100). */
async function loadAll(path, pages = 10) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < pages; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const more = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await session.get(`${path}${sep}limit=100${more}`);
    items.push(...(page.items || []));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

function unionName(id) {
  return state.unionById.get(id)?.name || "（未知工会）";
}

/** The unions this admin acts for, parents before children, with their depth. */
function unionTree() {
  const all = state.unions;
  const own = state.me?.union?.id;
  const inScope = (u) => {
    if (state.me?.role === "platform_admin" || !own) return true;
    for (let x = u, n = 0; x && n < 32; x = state.unionById.get(x.parent_id), n++) {
      if (x.id === own) return true;
    }
    return false;
  };
  const scoped = all.filter(inScope);
  const ids = new Set(scoped.map((u) => u.id));
  const children = new Map();
  for (const u of scoped) {
    const key = ids.has(u.parent_id) ? u.parent_id : "";
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(u);
  }
  const out = [];
  const walk = (key, depth) => {
    for (const u of children.get(key) || []) {
      out.push({ union: u, depth });
      walk(u.id, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

/** A <select> of the unions in scope, indented by level. */
function unionSelect(id, selected) {
  const select = el("select", { id, required: true });
  for (const { union, depth } of state.tree) {
    select.append(el("option", { value: union.id, selected: union.id === selected }, `${"　".repeat(depth)}${union.name}`));
  }
  return select;
}

function defaultUnionId() {
  return state.me?.union?.id || state.tree[0]?.union.id || "";
}

/** Checkboxes for the stations of a union and its descendants, into `box`. */
async function stationChecks(box, unionId, prefix) {
  box.replaceChildren(el("p", { class: "muted" }, "正在加载驿站…"));
  if (!unionId) {
    box.replaceChildren(el("p", { class: "muted" }, "请先选择工会"));
    return;
  }
  try {
    const items = await loadAll(`/api/v1/stations?union_id=${encodeURIComponent(unionId)}`);
    if (!items.length) {
      box.replaceChildren(el("p", { class: "muted" }, "这个工会及下级工会还没有驿站"));
      return;
    }
    box.replaceChildren(
      el("div", { class: "checks" }, items.map((s) => {
        const id = `${prefix}-${s.id}`;
        return el("span", { class: "check" },
          el("input", { type: "checkbox", id, value: s.id, name: `${prefix}-station` }),
          el("label", { for: id }, s.name),
          s.union_name ? el("span", { class: "muted small" }, `（${s.union_name}）`) : null);
      })),
    );
  } catch (e) {
    const n = notice();
    showError(n, e);
    box.replaceChildren(n);
  }
}

/** A table in a scrollable, keyboard-reachable wrapper. */
function table(caption, headers, rows) {
  return el("div", { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    el("table", {},
      el("caption", { class: "visually-hidden" }, caption),
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)));
}

/** Labelled field: label, control, optional hint tied by aria-describedby. */
function field(label, control, hint) {
  const hintEl = hint ? el("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return el("div", { class: "field" }, el("label", { for: control.id }, label), control, hintEl);
}

function setHash() {
  const p = new URLSearchParams({ tab: state.tab });
  if (state.campaignId) p.set("campaign", state.campaignId);
  history.replaceState(null, "", `#${p}`);
}

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (TABS.some(([k]) => k === p.get("tab"))) state.tab = p.get("tab");
  // Only an id goes into an API path (a crafted link must not steer the admin's token).
  state.campaignId = uuid(p.get("campaign"));
}

const ctx = {
  session, state, OCCUPATIONS, problemText, showError, notice, act, loadAll, unionName, unionSelect,
  defaultUnionId, stationChecks, table, field, setHash,
};

// ---------------------------------------------------------------- sign-in

function signedOutHeader() {
  who.textContent = "";
  logoutButton.classList.add("hidden");
}

function showLogin(message, kind = "info") {
  state.me = null;
  signedOutHeader();
  const phone = el("input", { id: "login-phone", type: "tel", autocomplete: "username", inputmode: "tel", required: true });
  const password = el("input", { id: "login-password", type: "password", autocomplete: "current-password", required: true });
  const note = notice();
  const submit = el("button", { type: "submit" }, "登录");
  const form = el("form", { class: "card narrow", "aria-labelledby": "login-h" },
    el("h2", { id: "login-h" }, "管理员登录"),
    field("手机号", phone),
    field("密码", password),
    el("div", { class: "row actions" }, submit),
    note);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(submit, note, async () => {
      const pair = await session.login(phone.value.trim(), password.value);
      if (pair.password_change_required) showPasswordChange(password.value);
      else await enter();
    });
  });
  view.replaceChildren(form);
  say(pageNotice, "");
  if (message) say(note, message, kind);
  phone.focus();
}

function showPasswordChange(current = "") {
  const cur = el("input", { id: "pw-current", type: "password", autocomplete: "current-password", required: true });
  cur.value = current;
  const next = el("input", { id: "pw-new", type: "password", autocomplete: "new-password", required: true, minlength: "8", maxlength: "128" });
  const show = el("input", { id: "pw-show", type: "checkbox" });
  show.addEventListener("change", () => {
    next.type = show.checked ? "text" : "password";
  });
  const note = notice();
  const submit = el("button", { type: "submit" }, "修改密码");
  const form = el("form", { class: "card narrow", "aria-labelledby": "pw-h" },
    el("h2", { id: "pw-h" }, "请先修改密码"),
    el("p", {}, "管理员为你重置了密码。设置一个只有你知道的新密码（至少 8 位）后才能继续。"),
    field("当前密码", cur),
    field("新密码", next),
    el("span", { class: "check" }, show, el("label", { for: "pw-show" }, "显示密码")),
    el("div", { class: "row actions" }, submit),
    note);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(submit, note, async () => {
      await session.post("/api/v1/me/password", { current_password: cur.value, new_password: next.value });
      say(pageNotice, "密码已修改", "ok");
      await enter();
    });
  });
  logoutButton.classList.remove("hidden");
  view.replaceChildren(form);
  (current ? next : cur).focus();
}

/** After sign-in (or on load with a kept session): who is this, then the console. */
async function enter() {
  let me;
  try {
    me = await session.get("/api/v1/me");
  } catch (e) {
    if (e instanceof ApiProblem && e.code === "PASSWORD_CHANGE_REQUIRED") return showPasswordChange();
    if (!session.signedIn) return showLogin(problemText(e), "error");
    throw e;
  }
  if (!ADMIN_ROLES.includes(me.role)) {
    await session.logout();
    return showLogin("此页面仅供工会管理员使用", "error");
  }
  state.me = me;
  state.unions = await loadAll("/api/v1/unions", 20);
  state.unionById = new Map(state.unions.map((u) => [u.id, u]));
  state.tree = unionTree();
  showConsole();
}

// ---------------------------------------------------------------- console and tabs

function showConsole() {
  const me = state.me;
  who.textContent = `${me.name} · ${me.union?.name || ROLE_NAMES[me.role]}`;
  logoutButton.classList.remove("hidden");
  const panel = el("section", { id: "panel", class: "panel" });
  const nav = el("nav", { class: "tabs", "aria-label": "功能" },
    TABS.map(([key, label]) => el("button", {
      type: "button", id: `tab-${key}`, "data-tab": key, "aria-controls": "panel", "aria-pressed": "false",
      onclick: () => selectTab(key),
    }, label)));
  nav.addEventListener("keydown", tabArrows);
  view.replaceChildren(nav, panel);
  readHash();
  selectTab(state.tab);
}

/** Left/right arrows move between the tab buttons. */
function tabArrows(e) {
  if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
  const buttons = [...e.currentTarget.querySelectorAll("button")];
  const i = buttons.indexOf(document.activeElement);
  if (i < 0) return;
  const step = e.key === "ArrowRight" ? 1 : -1;
  buttons[(i + step + buttons.length) % buttons.length].focus();
  e.preventDefault();
}

function selectTab(key) {
  state.tab = key;
  setHash();
  for (const b of view.querySelectorAll("nav.tabs button")) {
    const on = b.dataset.tab === key;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    if (on) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  const panel = document.getElementById("panel");
  panel.setAttribute("aria-labelledby", `tab-${key}`);
  say(pageNotice, "");
  const render = { campaigns: () => campaignsTab(panel, ctx), applications: applicationsTab, staff: staffTab, exports: exportsTab,
    wishes: (p) => wishesTab(p, ctx) }[key];
  render(panel);
}

// ---------------------------------------------------------------- 入会审批

function applicationsTab(panel) {
  const note = notice();
  const body = el("div", {}, el("p", { class: "muted" }, "正在加载…"));
  const reload = el("button", { type: "button", class: "secondary" }, "刷新");
  reload.addEventListener("click", () => act(reload, note, () => loadApplications(body, note)));
  panel.replaceChildren(
    el("h2", { id: "apps-h", tabindex: "-1" }, "待审批的入会申请"),
    el("div", { class: "toolbar" }, reload),
    note, body);
  loadApplications(body, note).catch((e) => showError(note, e));
}

async function loadApplications(body, note, cursor = null, rows = null) {
  const more = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
  const page = await session.get(`/api/v1/admin/membership-applications?status=pending&limit=50${more}`);
  const tbody = rows || [];
  for (const a of page.items) tbody.push(applicationRow(a, note));
  if (!tbody.length) {
    body.replaceChildren(el("p", { class: "muted" }, "没有待审批的申请。"));
    return;
  }
  const parts = [table("待审批的入会申请", ["申请人", "手机号", "职业", "申请加入", "方式", "申请时间", "操作"], tbody)];
  if (page.next_cursor) {
    const moreButton = el("button", { type: "button", class: "secondary" }, "加载更多");
    moreButton.addEventListener("click", () => act(moreButton, note, () => loadApplications(body, note, page.next_cursor, tbody)));
    parts.push(el("div", { class: "row actions" }, moreButton));
  }
  body.replaceChildren(...parts);
}

function applicationRow(a, note) {
  const nameId = `app-name-${a.id}`;
  const reasonId = `reason-${a.id}`;
  const approve = el("button", { type: "button", "aria-describedby": nameId }, "通过");
  const reject = el("button", { type: "submit", class: "secondary", "aria-describedby": nameId, "aria-expanded": "false", "aria-controls": `reject-${a.id}` }, "拒绝");
  const reason = el("input", { id: reasonId, type: "text", maxlength: "200", autocomplete: "off" });
  const cancel = el("button", { type: "button", class: "secondary" }, "取消");
  const reasonBox = el("div", { id: `reject-${a.id}`, class: "reject hidden" },
    el("label", { for: reasonId }, "拒绝原因"), reason,
    el("p", { class: "hint" }, "填写后再按一次“拒绝”（或回车）。职工会收到这条原因。"), cancel);
  const form = el("form", { class: "row-actions" }, approve, reject, reasonBox);
  const row = el("tr", {},
    el("td", { id: nameId }, a.applicant?.name_masked || ""),
    el("td", {}, a.applicant?.phone_masked || ""),
    el("td", {}, OCCUPATIONS[a.applicant?.occupation] || "未填"),
    el("td", {}, unionName(a.union_id)),
    el("td", {}, a.submitted_via === "counter" ? "驿站现场" : "手机申请"),
    el("td", {}, civil(a.created_at)),
    el("td", {}, form));
  const who = a.applicant?.name_masked || "申请人";
  const done = (text) => {
    const next = row.nextElementSibling?.querySelector("button");
    row.remove();
    say(note, text, "ok");
    (next || document.getElementById("apps-h"))?.focus();
  };
  approve.addEventListener("click", () => act(approve, note, async () => {
    const answer = await session.post(`/api/v1/admin/membership-applications/${a.id}/approve`, {});
    const no = answer?.membership?.member_no;
    done(`通过了 ${who} 的入会申请${no ? `，会员号 ${no}` : ""}`);
  }));
  cancel.addEventListener("click", () => {
    reasonBox.classList.add("hidden");
    reject.setAttribute("aria-expanded", "false");
    reject.focus();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (reasonBox.classList.contains("hidden")) {
      reasonBox.classList.remove("hidden");
      reject.setAttribute("aria-expanded", "true");
      reason.focus();
      return;
    }
    const text = reason.value.trim();
    if (!text) {
      say(note, "请填写拒绝原因", "error");
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    reason.removeAttribute("aria-invalid");
    act(reject, note, async () => {
      await session.post(`/api/v1/admin/membership-applications/${a.id}/reject`, { reason: text });
      done(`拒绝了 ${who} 的入会申请`);
    });
  });
  return row;
}

// ---------------------------------------------------------------- 职员

function staffTab(panel) {
  const note = notice();
  const secret = el("div", { class: "secret-box", role: "status", "aria-live": "polite" });
  const body = el("div", {}, el("p", { class: "muted" }, "正在加载…"));
  const add = el("button", { type: "button", class: "secondary", "aria-expanded": "false", "aria-controls": "staff-form" }, "新增职员");
  const formBox = el("div", { id: "staff-form", class: "hidden" });
  const reload = () => loadStaff(body, note, secret);
  add.addEventListener("click", () => {
    const open = formBox.classList.toggle("hidden") === false;
    add.setAttribute("aria-expanded", String(open));
    if (open) {
      formBox.replaceChildren(staffForm(note, () => {
        formBox.classList.add("hidden");
        add.setAttribute("aria-expanded", "false");
        add.focus();
        return reload();
      }));
      formBox.querySelector("input")?.focus();
    }
  });
  panel.replaceChildren(el("h2", {}, "职员管理"), el("div", { class: "toolbar" }, add), formBox, note, secret, body);
  reload().catch((e) => showError(note, e));
}

async function loadStaff(body, note, secret) {
  const items = await loadAll("/api/v1/admin/staff");
  if (!items.length) {
    body.replaceChildren(el("p", { class: "muted" }, "还没有职员。"));
    return;
  }
  const rows = items.map((s) => staffRow(s, note, secret));
  body.replaceChildren(table("职员", ["姓名", "手机号", "角色", "所在工会", "状态", "操作"], rows));
}

function staffRow(s, note, secret) {
  const nameId = `staff-name-${s.id}`;
  const toggle = el("button", { type: "button", class: "secondary", "aria-describedby": nameId }, s.disabled ? "启用" : "停用");
  const reset = el("button", { type: "button", class: "secondary", "aria-describedby": nameId }, "重置密码");
  const row = el("tr", { class: s.disabled ? "is-disabled" : "" },
    el("td", { id: nameId }, s.name),
    el("td", {}, s.phone_masked),
    el("td", {}, ROLE_NAMES[s.role] || s.role),
    el("td", {}, unionName(s.union_id)),
    el("td", {}, el("span", { class: s.disabled ? "tag bad" : "tag ok" }, s.disabled ? "已停用" : "正常")),
    el("td", {}, el("div", { class: "row-actions" }, toggle, reset)));
  toggle.addEventListener("click", () => act(toggle, note, async () => {
    const updated = await session.patch(`/api/v1/admin/staff/${s.id}`, { disabled: !s.disabled });
    const fresh = staffRow({ ...s, ...updated }, note, secret);
    row.replaceWith(fresh);
    fresh.querySelector("button").focus();
    say(note, `${updated.disabled ? "停用" : "启用"}成功：${s.name}`, "ok");
  }));
  reset.addEventListener("click", () => act(reset, note, async () => {
    const answer = await session.post(`/api/v1/admin/staff/${s.id}/password-reset`, {});
    showSecret(secret, s.name, answer.temporary_password, reset);
    say(note, "");
  }));
  return row;
}

/** The temporary password, shown once, until dismissed. */
function showSecret(box, name, password, back) {
  const ok = el("button", { type: "button", class: "secondary" }, "我已记下");
  ok.addEventListener("click", () => {
    box.replaceChildren();
    back.focus();
  });
  box.replaceChildren(el("div", { class: "notice secret-notice", "data-kind": "ok" },
    el("p", {}, `${name} 的临时密码：`, el("code", { class: "secret" }, password)),
    el("p", {}, "只显示这一次。请当面或电话告诉本人；对方用它登录后须立即设置新密码，原有登录已全部退出。"),
    ok));
}

function staffForm(note, onCreated) {
  const name = el("input", { id: "sf-name", type: "text", required: true, maxlength: "40", autocomplete: "off" });
  const phone = el("input", { id: "sf-phone", type: "tel", required: true, inputmode: "tel", autocomplete: "off" });
  const password = el("input", { id: "sf-password", type: "text", required: true, minlength: "8", maxlength: "128", autocomplete: "off" });
  const role = el("select", { id: "sf-role" }, el("option", { value: "counter" }, "核销员"), el("option", { value: "union_admin" }, "工会管理员"));
  const union = unionSelect("sf-union", defaultUnionId());
  const stations = el("div", {});
  const stationSet = el("fieldset", {}, el("legend", {}, "负责驿站"), stations);
  const submit = el("button", { type: "submit" }, "创建职员");
  const formNote = notice();
  const loadStations = () => stationChecks(stations, union.value, "sf");
  union.addEventListener("change", loadStations);
  role.addEventListener("change", () => stationSet.classList.toggle("hidden", role.value !== "counter"));
  const form = el("form", { class: "card", "aria-labelledby": "sf-h" },
    el("h3", { id: "sf-h" }, "新增职员"),
    el("div", { class: "form-grid" },
      field("职员姓名", name),
      field("职员手机号", phone),
      field("初始密码", password, "至少 8 位；请告诉本人，并提醒其登录后修改"),
      field("角色", role),
      field("所在工会", union)),
    stationSet,
    el("div", { class: "row actions" }, submit),
    formNote);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), phone: phone.value.trim(), password: password.value, role: role.value, union_id: union.value };
    if (role.value === "counter") {
      body.station_ids = [...stations.querySelectorAll("input:checked")].map((c) => c.value);
      if (!body.station_ids.length) {
        say(formNote, "核销员至少要负责一个驿站", "error");
        stations.querySelector("input")?.focus();
        return;
      }
    }
    act(submit, formNote, async () => {
      const created = await session.post("/api/v1/admin/staff", body);
      say(note, `创建成功：${created.name}（${ROLE_NAMES[created.role] || created.role}）`, "ok");
      await onCreated();
    });
  });
  loadStations();
  return form;
}

// ---------------------------------------------------------------- 导出

function exportsTab(panel) {
  const note = notice();
  const campaign = el("select", { id: "export-campaign" }, el("option", { value: "" }, "正在加载…"));
  const vouchers = el("button", { type: "button" }, "导出券（CSV）");
  const redemptions = el("button", { type: "button" }, "导出核销（CSV）");
  const union = unionSelect("export-union", defaultUnionId());
  const members = el("button", { type: "button" }, "导出会员（CSV）");
  const titleOf = () => campaign.selectedOptions[0]?.dataset.title || "活动";
  const needCampaign = () => {
    if (campaign.value) return true;
    say(note, "请先选择活动", "error");
    campaign.focus();
    return false;
  };
  vouchers.addEventListener("click", () => needCampaign() && act(vouchers, note, () =>
    download(`/api/v1/admin/campaigns/${campaign.value}/vouchers.csv`, `${titleOf()}-券`, note)));
  redemptions.addEventListener("click", () => needCampaign() && act(redemptions, note, () =>
    download(`/api/v1/admin/campaigns/${campaign.value}/redemptions.csv`, `${titleOf()}-核销`, note)));
  members.addEventListener("click", () => act(members, note, () =>
    download(`/api/v1/admin/unions/${union.value}/members.csv`, `${unionName(union.value)}-会员`, note)));
  campaign.addEventListener("change", () => {
    state.campaignId = campaign.value || null;
    setHash();
  });
  panel.replaceChildren(
    el("h2", {}, "导出数据"),
    el("p", { class: "muted" }, "CSV 文件用 UTF-8 编码，时间为北京时间，个人信息已脱敏，可直接用 Excel 打开，供审计留档。"),
    el("div", { class: "grid" },
      el("div", { class: "card" }, el("h3", {}, "活动的券与核销"), field("选择活动", campaign), el("div", { class: "row actions" }, vouchers, redemptions)),
      el("div", { class: "card" }, el("h3", {}, "会员名册"), field("选择工会", union, "包括下级工会的会员"), el("div", { class: "row actions" }, members))),
    note);
  fillCampaignSelect(campaign, note);
}

async function fillCampaignSelect(select, note) {
  try {
    const items = await loadAll("/api/v1/admin/campaigns", 5);
    select.replaceChildren(el("option", { value: "" }, items.length ? "请选择" : "还没有活动"),
      ...items.map((c) => el("option", { value: c.id, "data-title": c.title, selected: c.id === state.campaignId }, `${c.title}（${civilDate(c.claim_starts_at)}）`)));
  } catch (e) {
    select.replaceChildren(el("option", { value: "" }, "加载失败"));
    showError(note, e);
  }
}

/** Fetches a file with the token and hands it to the browser as a download. */
async function download(path, stem, note) {
  say(note, "正在导出…", "info");
  const blob = await session.call("GET", path, undefined, { raw: true });
  const safe = stem.replace(/[\\/:*?"<>|\s]+/g, "_").slice(0, 80);
  const filename = `${safe}-${civilDate(new Date().toISOString())}.csv`;
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename, class: "hidden" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  say(note, `导出完成：${filename}`, "ok");
}

// ---------------------------------------------------------------- start

session.onSignedOut = () => showLogin("登录已失效，请重新登录", "error");

logoutButton.addEventListener("click", async () => {
  await session.logout();
  showLogin("已退出登录");
});

async function start() {
  if (!session.signedIn) return showLogin();
  try {
    await enter();
  } catch (e) {
    if (!session.signedIn) return showLogin(problemText(e), "error");
    const retry = el("button", { type: "button" }, "重试");
    retry.addEventListener("click", () => start());
    view.replaceChildren(el("div", { class: "row actions" }, retry));
    showError(pageNotice, e);
  }
}

start();
