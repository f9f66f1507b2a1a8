// 核销台 — the counter console. Staff look a voucher up (usually with a keyboard-wedge
// scanner that types the QR payload and presses Enter), check whose it is, press
// 确认核销, and read the answer at arm's length: green 核销成功 or red 已核销 with when
// and where. Nothing from the API is ever parsed as HTML: the DOM is built with el().
import { Session, ApiProblem, newKey, civil, el, say } from "/assets/api.js";
import { deliveriesSection } from "/assets/counter-deliveries.js";

const session = new Session("counter");
const STATION_KEY = "zhijian.counter.station";
const POLL_MS = 60_000;

const STATUS_WORDS = {
  issued: "待使用",
  redeemed: "已核销",
  expired: "已过期",
  cancelled: "已退回",
  revoked: "已作废",
};

// Answers that describe a passing moment. The server does not keep them against the
// Idempotency-Key, so pressing 确认核销 again re-sends the same press with the same key.
const TRANSIENT = new Set([
  "NETWORK",
  "REDEMPTION_IN_PROGRESS",
  "IDEMPOTENCY_IN_FLIGHT",
  "RATE_LIMITED",
  "REQUEST_TIMEOUT",
  "UNAVAILABLE",
  "INTERNAL",
]);

const view = document.getElementById("view");
const notice = document.getElementById("notice");
const who = document.getElementById("who");
const logoutButton = document.getElementById("logout");

/** The signed-in desk (stations, DOM, request state), or null when signed out. */
let desk = null;

// ---------------------------------------------------------------- page frame

function setView(name, ...nodes) {
  view.dataset.view = name;
  view.replaceChildren(...nodes);
}

function signedInChrome(on, name = "") {
  logoutButton.classList.toggle("hidden", !on);
  who.textContent = name;
}

/** A problem as a sentence in the notice; anything else is a bug, logged. */
function report(e) {
  if (e instanceof ApiProblem) {
    say(notice, e.sentence, "error");
  } else {
    console.error(e);
    say(notice, "页面出错了，请刷新后重试。", "error");
  }
}

function passwordInput(id, autocomplete) {
  return el("input", { id, name: id, type: "password", autocomplete, required: true });
}

// ---------------------------------------------------------------- sign-in

function showLogin(message = "", kind = "info") {
  stopDesk();
  signedInChrome(false);
  say(notice, message, kind);
  // Several requests may find the session gone at once: keep what is being typed.
  if (view.dataset.view === "login") return;
  const phone = el("input", {
    id: "login-phone", name: "phone", type: "tel", inputmode: "tel", autocomplete: "username", required: true,
  });
  const password = passwordInput("login-password", "current-password");
  const submit = el("button", { type: "submit" }, "登录");
  const onsubmit = (e) => {
    e.preventDefault();
    signIn(phone.value, password.value, submit);
  };
  const form = el(
    "form",
    { class: "card narrow", onsubmit },
    el("h2", {}, "核销员登录"),
    el("label", { for: "login-phone" }, "手机号"),
    phone,
    el("label", { for: "login-password" }, "密码"),
    password,
    el("div", { class: "actions" }, submit),
  );
  setView("login", form);
  phone.focus();
}

async function signIn(phone, password, button) {
  if (button.disabled) return;
  button.disabled = true;
  try {
    const pair = await session.login(phone.trim(), password);
    say(notice, "");
    if (pair.password_change_required) showPasswordChange(password);
    else await start();
  } catch (e) {
    report(e);
  } finally {
    button.disabled = false; // the form may still be showing (a wrong password, a wrong role)
  }
}

/** After an admin's reset every other route answers 403 until the password is changed. */
function showPasswordChange(current = "") {
  stopDesk();
  signedInChrome(true);
  say(notice, "为了账号安全，请先设置新密码。", "info");
  const cur = current ? null : passwordInput("pw-current", "current-password");
  const next = passwordInput("pw-new", "new-password");
  next.minLength = 8;
  const again = passwordInput("pw-again", "new-password");
  const submit = el("button", { type: "submit" }, "保存新密码");
  const onsubmit = (e) => {
    e.preventDefault();
    changePassword(cur ? cur.value : current, next.value, again.value, submit);
  };
  const form = el(
    "form",
    { class: "card narrow", onsubmit },
    el("h2", {}, "设置新密码"),
    cur && [el("label", { for: "pw-current" }, "当前密码"), cur],
    el("label", { for: "pw-new" }, "新密码（至少 8 位）"),
    next,
    el("label", { for: "pw-again" }, "再输一次"),
    again,
    el("div", { class: "actions" }, submit),
  );
  setView("password", form);
  (cur || next).focus();
}

async function changePassword(current, next, again, button) {
  if (next !== again) {
    say(notice, "两次输入的新密码不一样，请重新输入。", "error");
    return;
  }
  button.disabled = true;
  try {
    await session.post("/api/v1/me/password", { current_password: current, new_password: next });
    say(notice, "新密码已保存。", "ok");
    await start();
  } catch (e) {
    button.disabled = false;
    report(e);
  }
}

/** Signed in: check the role, then open the desk. */
async function start() {
  let me;
  try {
    me = await session.get("/api/v1/me");
  } catch (e) {
    if (e instanceof ApiProblem && e.code === "PASSWORD_CHANGE_REQUIRED") return showPasswordChange();
    if (e instanceof ApiProblem && e.status === 401) return undefined; // the sign-in form is showing
    return showRetry(e);
  }
  if (me.role !== "counter") {
    await session.logout();
    return showLogin("此页面仅供核销员使用，请用核销员账号登录。", "error");
  }
  return openDesk(me);
}

function showRetry(e) {
  stopDesk();
  signedInChrome(true);
  report(e);
  const again = el("button", { type: "button", onclick: () => start() }, "重试");
  setView("retry", el("div", { class: "actions" }, again));
  again.focus();
}

// ---------------------------------------------------------------- the desk

function pickStation(stations) {
  const saved = localStorage.getItem(STATION_KEY);
  return stations.some((s) => s.id === saved) ? saved : stations[0].id;
}

function openDesk(me) {
  stopDesk();
  signedInChrome(true, me.name || "");
  const stations = me.stations || [];
  if (!stations.length) {
    say(notice, "您的账号还没有绑定驿站，请联系工会管理员。", "error");
    setView("empty");
    return;
  }
  const d = {
    stations,
    stationId: pickStation(stations),
    names: new Map(stations.map((s) => [s.id, s.name])),
    busy: false, // one request at a time: a lookup or a redemption
    inFlight: "", // the code of that request
    queued: "", // a code scanned while it was in flight
    lastCode: "", // looked up again when the station changes
    card: null, // {code, stationId, lookup, key} while 确认核销 is offered
  };
  d.ui = buildDesk(d);
  desk = d;
  setView("desk", d.ui.root);
  d.poll = setInterval(() => document.visibilityState === "visible" && !d.busy && loadToday(d), POLL_MS);
  offerCamera(d);
  loadToday(d);
  focusCode(d);
}

function stopDesk() {
  const d = desk;
  desk = null; // first, so nothing below refocuses or re-renders the old desk
  if (!d) return;
  clearInterval(d.poll);
  closeCamera(d);
}

function buildDesk(d) {
  const ui = {};
  ui.station = el(
    "select",
    { id: "station", onchange: () => changeStation(d, ui.station.value) },
    d.stations.map((s) => el("option", { value: s.id, selected: s.id === d.stationId }, s.name)),
  );
  ui.cameraButton = el("button", { type: "button", class: "secondary hidden", onclick: () => openCamera(d) }, "用摄像头扫码");
  ui.code = el("input", {
    id: "code", name: "code", type: "text", inputmode: "text", autocomplete: "off", autocapitalize: "off",
    autocorrect: "off", spellcheck: "false", enterkeyhint: "search", autofocus: true, "aria-describedby": "code-hint",
  });
  // 查询 is for touch; keyboards submit with Enter, so Tab goes straight from 券码 to 确认核销.
  ui.form = el(
    "form",
    { class: "scan", autocomplete: "off", onsubmit: (e) => onScan(e, d) },
    el("label", { for: "code" }, "券码"),
    el("div", { class: "scan-row" }, ui.code, el("button", { type: "submit", tabindex: "-1" }, "查询")),
    el("p", { id: "code-hint", class: "muted hint" }, "用扫码枪扫职工出示的二维码，或输入券码后按回车。"),
  );
  ui.video = el("video", { muted: true, playsinline: true, "aria-label": "摄像头画面" });
  ui.cameraClose = el("button", { type: "button", class: "secondary", onclick: () => closeCamera(d) }, "关闭摄像头");
  ui.cameraBox = el("div", { class: "camera hidden" }, ui.video, el("div", { class: "actions" }, ui.cameraClose));
  ui.answer = el("div", { id: "answer", class: "big-answer", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  ui.card = el("div", { class: "voucher-slot", "aria-live": "polite" });
  const scan = el(
    "section",
    { class: "scan-area", "aria-labelledby": "scan-title" },
    el("h2", { id: "scan-title", class: "visually-hidden" }, "扫码核销"),
    el("div", { class: "row station-row" }, el("label", { for: "station" }, "驿站"), ui.station, ui.cameraButton),
    ui.form,
    ui.cameraBox,
    ui.answer,
    ui.card,
  );
  ui.deliveries = deliveriesSection({
    session, beep, stationId: () => d.stationId, stationName: (id) => d.names.get(id) || "", live: () => desk === d,
    onDelivered: () => loadToday(d),
    signedOut: (e) => e.code === "PASSWORD_CHANGE_REQUIRED" && (showPasswordChange(), true),
  });
  ui.root = el("div", { class: "desk" }, scan, buildToday(ui, d), ui.deliveries.root);
  return ui;
}

function buildToday(ui, d) {
  ui.todayCount = el("span", { class: "muted" });
  ui.todayNote = el("p", { class: "muted" }, "正在读取…");
  ui.todayBody = el("tbody");
  ui.todayTable = el(
    "div",
    { class: "table-wrap hidden" },
    el(
      "table",
      { class: "today" },
      el("thead", {}, el("tr", {}, ["时间", "物品", "活动", "持券人"].map((h) => el("th", { scope: "col" }, h)))),
      ui.todayBody,
    ),
  );
  return el(
    "section",
    { class: "today-area", "aria-labelledby": "today-title" },
    el(
      "div",
      { class: "row today-head" },
      el("h2", { id: "today-title" }, "今日核销"),
      ui.todayCount,
      el("button", { type: "button", class: "secondary", onclick: () => loadToday(d) }, "刷新"),
    ),
    ui.todayNote,
    ui.todayTable,
  );
}

function changeStation(d, id) {
  d.stationId = id;
  localStorage.setItem(STATION_KEY, id);
  loadToday(d);
  // Whether a voucher is redeemable here depends on the station: ask again.
  if (!d.lastCode) return;
  if (d.busy) {
    d.queued = d.lastCode;
    return;
  }
  clearAnswer(d);
  dropCard(d);
  lookUp(d, d.lastCode);
}

/** 券码 gets the focus back, unless someone is already typing there. */
function focusCode(d) {
  if (desk === d && document.activeElement !== d.ui.code) d.ui.code.focus();
}

// ---------------------------------------------------------------- scan and look up

function onScan(e, d) {
  e.preventDefault();
  const code = d.ui.code.value.trim();
  // Empty the field now, not when the answer comes: a scanner may already be typing the
  // next code, and clearing later would eat its first characters.
  d.ui.code.value = "";
  if (!code) return; // a stray Enter
  if (d.busy) {
    // The same code again is a double Enter or a double scan: never send it twice.
    if (code !== d.inFlight) d.queued = code;
    return;
  }
  lookUp(d, code);
}

function begin(d, code) {
  d.busy = true;
  d.inFlight = code;
}

/** The request is over; a code scanned meanwhile is looked up now (the newest wins). */
function finish(d) {
  d.busy = false;
  d.inFlight = "";
  const next = d.queued;
  d.queued = "";
  if (next && desk === d) lookUp(d, next);
}

async function lookUp(d, code) {
  begin(d, code);
  say(notice, ""); // an old message (新密码已保存, a camera problem) is not about this voucher
  clearAnswer(d);
  d.card = null;
  d.ui.card.replaceChildren(el("p", { class: "muted pending" }, "正在查询…"));
  try {
    const found = await session.post("/api/v1/counter/lookups", { code, station_id: d.stationId });
    if (desk === d) await showLookup(d, code, found);
  } catch (e) {
    if (desk === d) {
      dropCard(d);
      showProblem(d, e, code);
      focusCode(d);
    }
  } finally {
    finish(d);
  }
}

async function showLookup(d, code, v) {
  const canRedeem = v.status === "issued" && v.redeemable_here;
  d.lastCode = code;
  d.card = canRedeem ? { code, stationId: d.stationId, lookup: v, key: "" } : null;
  d.ui.card.replaceChildren(voucherCard(d, v, canRedeem));
  if (v.status === "redeemed") {
    showRedeemed(d, v.redeemed_at, await stationName(d, v.redeemed_station_id));
  } else if (v.status !== "issued") {
    showAnswer(d, "bad", STATUS_WORDS[v.status] || v.status, "这张券不能核销");
  } else if (!v.redeemable_here) {
    const where = (v.station_names || []).join("、");
    showAnswer(d, "bad", "不能在本驿站核销", where && `请到：${where}`);
  }
  if (canRedeem && matchMedia("(hover: none)").matches) {
    // Touch screens: let the on-screen keyboard close so the card and its button show.
    // A scanner's next code still reaches 券码 (see redirectTyping).
    d.ui.code.blur();
    d.ui.confirm.scrollIntoView({ block: "nearest" });
  } else {
    focusCode(d);
  }
}

function voucherCard(d, v, canRedeem) {
  const facts = [
    ["活动", v.campaign_title],
    ["持券人", v.holder_name_masked],
    ["手机", v.holder_phone_masked],
    ["会员号", v.holder_member_no || "无"],
    ["有效期至", civil(v.expires_at)],
  ];
  // Other states are said once, in the big answer above.
  if (v.status === "issued") facts.push(["状态", STATUS_WORDS.issued]);
  return el(
    "article",
    { class: `card voucher ${canRedeem ? "go" : "stop"}`, "aria-labelledby": "voucher-title" },
    el("h3", { id: "voucher-title" }, v.item_name),
    el("dl", { class: "facts" }, facts.map(([k, value]) => el("div", {}, el("dt", {}, k), el("dd", {}, value)))),
    canRedeem && confirmBlock(d),
  );
}

function confirmBlock(d) {
  d.ui.confirm = el("button", { type: "button", class: "confirm", onclick: () => confirmRedeem(d) }, "确认核销");
  d.ui.confirmNote = el("p", { class: "muted" }, "请核对持券人后确认；一张券只能核销一次。");
  return el("div", { class: "confirm-block" }, d.ui.confirm, d.ui.confirmNote);
}

function dropCard(d) {
  d.card = null;
  d.ui.confirm = null;
  d.ui.card.replaceChildren();
}

// ---------------------------------------------------------------- redeem

async function confirmRedeem(d) {
  const card = d.card;
  if (!card || d.busy || desk !== d) return; // a second press while one is in flight does nothing
  // One key per press, kept while the outcome is unknown: pressing again after a network
  // failure is the same press, so it can never redeem twice.
  card.key ||= newKey();
  begin(d, card.code);
  setConfirmBusy(d, true);
  clearAnswer(d);
  try {
    const body = { code: card.code, station_id: card.stationId };
    const done = await session.post("/api/v1/counter/redemptions", body, { idempotencyKey: card.key });
    if (desk === d) redeemed(d, card, done);
  } catch (e) {
    if (desk === d) refused(d, e);
  } finally {
    finish(d);
    focusCode(d);
  }
}

function redeemed(d, card, done) {
  dropCard(d);
  d.lastCode = "";
  // A station change queued this code for a fresh lookup; it is redeemed now, and a
  // lookup would turn the green answer red.
  if (d.queued === card.code) d.queued = "";
  const v = card.lookup;
  const where = d.names.get(done.station_id) || "";
  showAnswer(d, "ok", "核销成功", `${v.item_name} · ${v.holder_name_masked}`, `${civil(done.redeemed_at)}${where && ` 在 ${where}`}`);
  beep(true);
  loadToday(d);
}

function refused(d, e) {
  const transient = e instanceof ApiProblem && (TRANSIENT.has(e.code) || e.status >= 500 || e.status === 0);
  if (transient) {
    // The card and its key stay: pressing 确认核销 again retries this very press.
    setConfirmBusy(d, false);
    showAnswer(d, "bad", e.body.title || e.message, detailOf(e), "可再按“确认核销”重试");
    beep(false);
    return;
  }
  dropCard(d);
  showProblem(d, e, "");
  if (e instanceof ApiProblem && e.code === "ALREADY_REDEEMED") loadToday(d);
}

function setConfirmBusy(d, on) {
  if (!d.ui.confirm) return;
  d.ui.confirm.disabled = on;
  d.ui.confirmNote.textContent = on ? "正在核销…" : "请核对持券人后确认；一张券只能核销一次。";
}

// ---------------------------------------------------------------- the big answer

function showAnswer(d, kind, headline, ...lines) {
  d.ui.answer.className = `big-answer ${kind}`;
  d.ui.answer.replaceChildren(
    el("span", { class: "mark", "aria-hidden": "true" }, kind === "ok" ? "✓" : "✗"),
    el("span", { class: "headline" }, headline),
    ...lines.filter(Boolean).map((line) => el("small", {}, line)),
  );
}

function clearAnswer(d) {
  d.ui.answer.className = "big-answer";
  d.ui.answer.replaceChildren();
}

/** Red 已核销, with when and (when known) where. */
function showRedeemed(d, at, where) {
  const line = at ? `于 ${civil(at)}${where ? ` 在 ${where}` : ""} 核销` : "";
  showAnswer(d, "bad", "已核销", line);
  beep(false);
}

function detailOf(e) {
  const { title, detail } = e.body;
  return detail && detail !== title ? detail : "";
}

function showProblem(d, e, code) {
  if (!(e instanceof ApiProblem)) {
    console.error(e);
    showAnswer(d, "bad", "出错了", "请刷新页面后重试");
    return;
  }
  if (e.status === 401) return; // signed out: the sign-in form is showing
  if (e.code === "PASSWORD_CHANGE_REQUIRED") {
    showPasswordChange();
    return;
  }
  if (e.code === "ALREADY_REDEEMED") {
    showRedeemed(d, e.body.redeemed_at, e.body.station_name || d.names.get(e.body.station_id));
    return;
  }
  showAnswer(d, "bad", e.body.title || e.message, detailOf(e), code && `券码：${code}`);
  beep(false);
}

/** A station's name for "在 … 核销": the counter's own, else its unions' directory (read once). */
async function stationName(d, id) {
  if (!id) return "";
  if (!d.names.has(id) && !d.directoryRead) {
    d.directoryRead = true;
    const unions = [...new Set(d.stations.map((s) => s.union_id))];
    await Promise.all(
      unions.map((u) =>
        session
          .get(`/api/v1/stations?union_id=${encodeURIComponent(u)}&limit=100`)
          .then((page) => page.items.forEach((s) => d.names.set(s.id, s.name)))
          .catch(() => {}),
      ),
    );
  }
  return d.names.get(id) || "";
}

// ---------------------------------------------------------------- 今日核销

async function loadToday(d) {
  if (desk !== d) return;
  const seq = (d.todaySeq = (d.todaySeq || 0) + 1); // a slow answer for another station is dropped
  try {
    const page = await session.get(`/api/v1/counter/redemptions?station_id=${encodeURIComponent(d.stationId)}`);
    if (desk === d && seq === d.todaySeq) renderToday(d, page.items || []);
  } catch (e) {
    if (desk !== d || seq !== d.todaySeq) return;
    if (!(e instanceof ApiProblem)) console.error(e);
    else if (e.status !== 401) d.ui.todayNote.textContent = `暂时读不到今日核销：${e.sentence}`;
  }
}

function renderToday(d, items) {
  const { ui } = d;
  const live = items.filter((r) => !r.reversed_at).length;
  ui.todayCount.textContent = `共 ${live} 张`;
  ui.todayNote.textContent = items.length ? "" : "今天本驿站还没有核销记录。";
  ui.todayTable.classList.toggle("hidden", !items.length);
  ui.todayBody.replaceChildren(
    ...items.map((r) =>
      el(
        "tr",
        {},
        el("td", { class: "time" }, civil(r.redeemed_at).slice(11)),
        el("td", {}, r.item_name),
        el("td", {}, r.campaign_title),
        el("td", {}, r.holder_name_masked, r.reversed_at ? el("span", { class: "tag bad" }, "已冲正") : null),
      ),
    ),
  );
}

// ---------------------------------------------------------------- camera

async function offerCamera(d) {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) return;
  } catch {
    return;
  }
  d.cameraOk = true;
  d.ui.cameraButton.classList.remove("hidden");
}

async function openCamera(d) {
  if (d.camera) return;
  let detector;
  let stream;
  try {
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    say(notice, "无法打开摄像头：请允许本页面使用摄像头，或改用扫码枪。", "error");
    return;
  }
  if (desk !== d) return stream.getTracks().forEach((t) => t.stop());
  d.camera = stream;
  d.ui.video.muted = true;
  d.ui.video.srcObject = stream;
  d.ui.cameraBox.classList.remove("hidden");
  d.ui.cameraButton.classList.add("hidden");
  d.ui.cameraClose.focus();
  await d.ui.video.play().catch(() => {});
  watchCamera(d, detector, stream);
  return undefined;
}

/** Looks for a QR code four times a second until one is found or the camera is closed. */
function watchCamera(d, detector, stream) {
  d.cameraTimer = setTimeout(async () => {
    if (d.camera !== stream) return;
    const found = await detector.detect(d.ui.video).catch(() => []);
    if (d.camera !== stream) return;
    const value = found[0]?.rawValue;
    if (!value) return watchCamera(d, detector, stream);
    closeCamera(d);
    d.ui.code.value = value;
    d.ui.form.requestSubmit();
    return undefined;
  }, 250);
}

function closeCamera(d) {
  clearTimeout(d.cameraTimer);
  d.camera?.getTracks().forEach((t) => t.stop());
  d.camera = null;
  d.ui.video.srcObject = null;
  d.ui.cameraBox.classList.add("hidden");
  d.ui.cameraButton.classList.toggle("hidden", !d.cameraOk);
  focusCode(d);
}

// ---------------------------------------------------------------- keyboard and sound

/**
 * A scanner types wherever the focus is. When it is on a button or the station select
 * (where letters would even change the station), the characters go to 券码 instead.
 */
function redirectTyping(e) {
  const d = desk;
  if (!d || e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key.length !== 1 || e.key === " ") return; // Space still presses a focused button
  const at = document.activeElement;
  if (at === d.ui.code || at?.matches?.("input, textarea, [contenteditable]")) return;
  e.preventDefault();
  const input = d.ui.code;
  input.focus();
  const end = input.value.length;
  input.setRangeText(e.key, end, end, "end");
}

let audio = null;

/** A short high beep for yes, a low one for no: staff need not look at the screen. */
function beep(ok) {
  try {
    audio ??= new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = ok ? 1046 : 220;
    gain.gain.value = 0.08;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + (ok ? 0.12 : 0.4));
  } catch {
    // Sound is a nicety; the screen says it all.
  }
}

// ---------------------------------------------------------------- wiring

document.addEventListener("keydown", redirectTyping);
document.addEventListener("visibilitychange", () => {
  if (desk && document.visibilityState === "visible") loadToday(desk);
});
window.addEventListener("pagehide", () => desk && closeCamera(desk));
logoutButton.addEventListener("click", async () => {
  stopDesk();
  await session.logout();
  showLogin("已退出。");
});
session.onSignedOut = () => showLogin("登录已失效，请重新登录。");

if (session.signedIn) start();
else showLogin();
