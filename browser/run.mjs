// Browser tests of the three pages, in Debian's Chromium driven by playwright-core, against
// the real `zhijian` binary on a fresh database: `node run.mjs sqlite` or `node run.mjs
// postgres` (PostgreSQL on 127.0.0.1:5432 and Redis on 6379, as .ci/run provides).
//
// The story (issue 13): a worker sees why they are not eligible, joins, is approved on the
// admin page, claims and shows the QR; the counter page reads that QR's payload typed as a
// keyboard-wedge scanner types it, redeems, and a second scan shows 已核销 with the
// station's name; the admin page's stats show one claimed and one redeemed.
//
// Then (issue 14) a delivery: the worker gives an address on the phone page and claims a
// 送货上门 campaign, the counter page's 送货上门 list shows the address and 确认送达 answers
// 送达成功, and the worker rates the hand-over 5 stars on the phone page (已评价).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const backend = process.argv[2] || "sqlite";
const bin = process.env.ZHIJIAN_BIN || join(root, "target/debug/zhijian");
const shots = join(root, "docs/screenshots");
const PASSWORD = "zhijian-demo";
const ADMIN = "13900000001";
const COUNTER = "13900000002";
const STATION = "路桥区职工服务驿站";
const step = (what) => console.log(`  · ${what}`);

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function key() {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A fresh database and the environment the binary runs with. */
function environment(port, dir) {
  const env = { PATH: process.env.PATH, BIND: `127.0.0.1:${port}`, RUST_LOG: "warn", JWT_SECRET: key(), VOUCHER_KEY: key() };
  // The pages from disk instead of the built-in copies (trying page changes without a rebuild).
  if (process.env.WEB_DIR) env.WEB_DIR = process.env.WEB_DIR;
  if (backend === "postgres") {
    const name = `zj_browser_${key().slice(0, 12)}`;
    execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", `CREATE DATABASE ${name}`]);
    env.DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${name}?sslmode=disable`;
    env.REDIS_URL = "redis://127.0.0.1:6379";
    env.REDIS_KEY_PREFIX = `zj-browser-${name}:`;
    return { env, drop: () => execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]) };
  }
  env.DATABASE_URL = join(dir, "zhijian.db");
  return { env, drop: () => {} };
}

async function waitReady(base) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the service did not become ready");
}

/** The API as a test client (setup and checks the pages do not show). */
function api(base) {
  const call = async (method, path, token, body) => {
    const resp = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    const json = text ? JSON.parse(text) : null;
    if (!resp.ok) throw new Error(`${method} ${path} → ${resp.status} ${text}`);
    return json;
  };
  return {
    get: (p, t) => call("GET", p, t),
    post: (p, t, b) => call("POST", p, t, b ?? {}),
    login: async (phone) => (await call("POST", "/api/v1/auth/login", null, { phone, password: PASSWORD })).access_token,
  };
}

/** A campaign only this run's worker can claim: members of 路桥区总工会, redeemable at STATION. */
async function campaign(a, admin, title, extra = {}) {
  const unions = (await a.get("/api/v1/unions?limit=100", admin)).items;
  const luqiao = unions.find((u) => u.name === "路桥区总工会");
  const stations = (await a.get(`/api/v1/stations?union_id=${luqiao.id}&limit=100`, admin)).items;
  const station = stations.find((s) => s.name === STATION);
  const hour = 3600 * 1000;
  const created = await a.post("/api/v1/admin/campaigns", admin, {
    union_id: luqiao.id,
    title,
    item_name: "米面油礼包",
    total_stock: 10,
    claim_starts_at: new Date(Date.now() - hour).toISOString(),
    claim_ends_at: new Date(Date.now() + 48 * hour).toISOString(),
    redeem_until: new Date(Date.now() + 96 * hour).toISOString(),
    station_ids: [station.id],
    rules: [{ type: "membership_required" }, { type: "member_of", union_id: luqiao.id }],
    ...extra,
  });
  await a.post(`/api/v1/admin/campaigns/${created.id}/publish`, admin);
  return { id: created.id, union: luqiao.id, station: station.id };
}

/** Everything a page loaded before images, in bytes (issue 13: no page over 200 KB). */
function weigh(page) {
  const sizes = [];
  page.on("response", async (r) => {
    if (r.request().resourceType() === "image") return;
    try {
      sizes.push((await r.body()).length);
    } catch {
      // a redirect or an aborted load has no body
    }
  });
  return () => sizes.reduce((a, b) => a + b, 0);
}

/** Uncaught errors of a page's scripts, to be asserted empty at the end. */
const pageErrors = [];
function watchErrors(page, name) {
  page.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
  return page;
}

async function signIn(page, phone) {
  await page.getByLabel("手机号").fill(phone);
  await page.getByLabel("密码").fill(PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByRole("button", { name: "退出" }).waitFor();
}

async function story(browser, base) {
  const a = api(base);
  const admin = await a.login(ADMIN);
  const title = `浏览器测试礼包 ${Date.now() % 100000}`;
  const c = await campaign(a, admin, title);

  step("a worker registers on the phone page and sees why they cannot claim yet");
  const phone = new Date().getTime().toString().slice(-8);
  const worker = `137${phone}`;
  const app = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
  const appWeight = weigh(watchErrors(app, "/app/"));
  await app.goto(`${base}/app/`);
  await app.getByRole("button", { name: "没有账号？注册" }).click();
  await app.getByLabel("手机号").fill(worker);
  await app.getByLabel("密码").fill(PASSWORD);
  await app.getByLabel("姓名").fill("王测试");
  await app.getByLabel("职业").selectOption("courier");
  await app.getByRole("button", { name: "注册" }).click();
  const card = app.locator("article").filter({ has: app.getByRole("heading", { name: title }) });
  await card.getByText("暂不能领取").waitFor();
  assert.ok((await card.locator("ul.reasons li").count()) >= 1, "every reason is listed");
  assert.match(await card.locator("ul.reasons").innerText(), /会员/);
  assert.ok(appWeight() < 200 * 1024, `the phone page weighs ${appWeight()} bytes`);

  step("the worker applies to join 路桥区总工会");
  await app.getByLabel("选择工会").selectOption(c.union);
  await app.getByRole("button", { name: "申请入会" }).click();
  await app.getByText("入会申请审核中").waitFor();

  step("the admin approves on the admin page");
  const office = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const officeWeight = weigh(watchErrors(office, "/admin/"));
  await office.goto(`${base}/admin/`);
  await signIn(office, ADMIN);
  await office.getByRole("button", { name: "入会审批" }).click();
  await office.getByRole("button", { name: "通过" }).first().click();
  await office.getByRole("button", { name: "通过" }).waitFor({ state: "detached" });

  step("the worker claims and shows the QR");
  await app.getByRole("button", { name: "刷新" }).first().click();
  await card.getByText("可以领取").waitFor();
  await card.getByRole("button", { name: "领取" }).click();
  const voucher = app.locator("article").filter({ hasText: title }).filter({ has: app.getByRole("button", { name: "出示二维码" }) });
  await voucher.getByRole("button", { name: "出示二维码" }).click();
  const qr = app.getByRole("img", { name: "券二维码" });
  await qr.waitFor();
  await app.waitForFunction(() => document.querySelector('img[alt="券二维码"]')?.naturalWidth > 0);
  await app.screenshot({ path: join(shots, "app.png") });
  const tokens = JSON.parse(await app.evaluate(() => localStorage.getItem("zhijian.app.tokens")));
  const held = (await a.get("/api/v1/me/vouchers", tokens.access)).items.find((v) => v.campaign_id === c.id);
  assert.ok(held, "the claimed voucher is in the wallet");

  step("the counter scans the QR payload as a keyboard-wedge scanner types it, and redeems");
  const counter = await (await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true })).newPage();
  const counterWeight = weigh(watchErrors(counter, "/counter/"));
  await counter.goto(`${base}/counter/`);
  await signIn(counter, COUNTER);
  await counter.getByLabel("驿站").selectOption(c.station);
  const field = counter.getByLabel("券码");
  await field.focus();
  await counter.keyboard.type(held.qr_payload, { delay: 4 });
  await counter.keyboard.press("Enter");
  // Without a mouse: focus the confirm button and press Enter, as a keyboard user would.
  await counter.getByRole("button", { name: "确认核销" }).focus();
  await counter.keyboard.press("Enter");
  const answer = counter.locator(".big-answer");
  await answer.getByText("核销成功").waitFor();

  step("a second scan of the same code shows 已核销 with when and where");
  // The field takes the next scan by itself: the page put the focus back.
  await field.evaluate((n) => new Promise((done) => {
    const check = () => (document.activeElement === n ? done() : setTimeout(check, 50));
    check();
  }));
  await counter.keyboard.type(held.qr_payload, { delay: 4 });
  await counter.keyboard.press("Enter");
  const again = counter.locator(".big-answer.bad");
  await again.getByText("已核销").first().waitFor();
  await again.getByText(STATION).first().waitFor();
  await counter.screenshot({ path: join(shots, "counter.png") });
  assert.ok(counterWeight() < 200 * 1024, `the counter page weighs ${counterWeight()} bytes`);

  step("the admin page's stats show one claimed and one redeemed");
  await office.getByRole("button", { name: "活动" }).first().click();
  await office.getByRole("button", { name: title }).first().click();
  await office.getByText("已领取 1", { exact: true }).waitFor();
  await office.getByText("已核销 1", { exact: true }).waitFor();
  await office.getByText("已核销 1", { exact: true }).scrollIntoViewIfNeeded();
  await office.screenshot({ path: join(shots, "admin.png") });
  assert.ok(officeWeight() < 200 * 1024, `the admin page weighs ${officeWeight()} bytes`);

  step("on a slow 3G profile each page is usable within seconds");
  for (const path of ["/app/", "/counter/", "/admin/"]) {
    const context = await browser.newContext();
    const slow = await context.newPage();
    const cdp = await context.newCDPSession(slow);
    // Chrome DevTools' "Slow 3G": 400 ms latency, about 50 KB/s each way.
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false, latency: 400, downloadThroughput: 51200, uploadThroughput: 51200,
    });
    const started = Date.now();
    await slow.goto(`${base}${path}`);
    await slow.getByRole("button", { name: "登录" }).waitFor();
    const ms = Date.now() - started;
    console.log(`    ${path} ready in ${ms} ms on slow 3G`);
    assert.ok(ms < 15000, `${path} took ${ms} ms on slow 3G`);
    await context.close();
  }
  return { a, admin, app, counter, office };
}

/** Issue 14: delivered to the door (送货上门), then rated, by the same worker and counter. */
async function delivery(s) {
  const { a, admin, app, counter, office } = s;
  const title = `送货上门测试 ${Date.now() % 100000}`;
  const c = await campaign(a, admin, title, { fulfilment: "delivery" });

  step("the worker gives a delivery address in 我的 and claims a 送货上门 campaign");
  const address = `台州市路桥区浏览器测试路 ${Date.now() % 1000} 号`;
  await app.getByLabel("收货地址").fill(address);
  await app.getByRole("button", { name: "保存地址" }).click();
  await app.getByText("收货地址已保存").waitFor();
  const tokens = JSON.parse(await app.evaluate(() => localStorage.getItem("zhijian.app.tokens")));
  await a.post(`/api/v1/campaigns/${c.id}/claims`, tokens.access);

  step("the counter opens 送货上门, sees the address and confirms the hand-over");
  await counter.getByRole("button", { name: "送货上门" }).click();
  const row = counter.locator("article").filter({ hasText: address });
  await row.getByText(title).waitFor();
  await row.getByRole("button", { name: "确认送达" }).click();
  await counter.locator(".big-answer.ok").getByText("送达成功").waitFor();
  await row.waitFor({ state: "detached" });

  step("the worker rates the delivered voucher 5 stars");
  await app.getByRole("button", { name: "刷新" }).first().click();
  const held = app.locator("article.voucher").filter({ hasText: title });
  await held.getByRole("button", { name: "5 星" }).click();
  await held.getByRole("button", { name: "提交评价" }).click();
  await held.getByText("已评价").waitFor();

  step("the admin page shows the delivery and the rating, and the 微心愿 summary");
  await office.getByRole("button", { name: "刷新列表" }).click();
  await office.getByRole("button", { name: title }).click();
  await office.getByText("送达 1", { exact: true }).waitFor();
  await office.getByText("五星好评 100%", { exact: true }).waitFor();
  await office.getByRole("button", { name: "微心愿", exact: true }).click();
  await office.getByText(/^待实现的心愿 \d+$/).waitFor();
  assert.deepEqual(pageErrors, [], "no page threw");
}

async function main() {
  mkdirSync(shots, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), "zj-browser-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { env, drop } = environment(port, dir);
  execFileSync(bin, ["seed-demo"], { env, stdio: "ignore" });
  const server = spawn(bin, ["serve"], { env, stdio: ["ignore", "ignore", "inherit"] });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const timer = setTimeout(() => {
    console.error("browser tests timed out");
    process.exit(1);
  }, 240_000);
  try {
    await waitReady(base);
    console.log(`browser tests on ${backend}`);
    await delivery(await story(browser, base));
    console.log(`browser tests on ${backend}: passed`);
  } finally {
    clearTimeout(timer);
    await browser.close();
    server.kill("SIGTERM");
    drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
