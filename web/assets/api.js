// The one way the pages talk to the API: same origin, bearer tokens kept per page in
// localStorage, a silent refresh when the access token has expired (so a wallet never
// says 授权失败), and problems turned into sentences a person can act on.

const REFRESH_PATH = "/api/v1/auth/refresh";

/** A signed-in session for one page ("app", "counter" or "admin"). */
export class Session {
  constructor(page) {
    this.key = `zhijian.${page}.tokens`;
    this.refreshing = null;
    this.onSignedOut = () => {};
  }

  get tokens() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || "null");
    } catch {
      return null;
    }
  }

  set tokens(value) {
    if (value) localStorage.setItem(this.key, JSON.stringify(value));
    else localStorage.removeItem(this.key);
  }

  get signedIn() {
    return Boolean(this.tokens);
  }

  /** POST /auth/login; keeps the pair. Returns the login answer. */
  async login(phone, password) {
    const pair = await request("POST", "/api/v1/auth/login", { phone, password });
    this.tokens = { access: pair.access_token, refresh: pair.refresh_token };
    return pair;
  }

  async logout() {
    const t = this.tokens;
    this.tokens = null;
    if (t) {
      await request("POST", "/api/v1/auth/logout", { refresh_token: t.refresh }).catch(() => {});
    }
  }

  /** One refresh at a time, however many requests found the token expired. */
  async refresh() {
    if (!this.refreshing) {
      const t = this.tokens;
      this.refreshing = (async () => {
        if (!t) throw new ApiProblem(401, { code: "UNAUTHENTICATED", title: "请先登录" });
        const pair = await request("POST", REFRESH_PATH, { refresh_token: t.refresh });
        // Signed out (or signed in again) meanwhile: that decision stands.
        if (this.tokens?.refresh === t.refresh) {
          this.tokens = { access: pair.access_token, refresh: pair.refresh_token };
        }
      })().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** An API call with the access token; refreshes once and retries on TOKEN_EXPIRED. */
  async call(method, path, body, options = {}) {
    const attempt = () => request(method, path, body, { ...options, token: this.tokens?.access });
    try {
      return await attempt();
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 401 && this.tokens) {
        if (e.code === "TOKEN_EXPIRED") {
          try {
            await this.refresh();
          } catch (refreshFailed) {
            // Only the server saying no ends the session; a weak network, a 429 or a 5xx
            // leaves it for the next try (a wallet must not sign itself out in a tunnel).
            if ([400, 401].includes(refreshFailed.status)) {
              this.tokens = null;
              this.onSignedOut();
            }
            throw refreshFailed;
          }
          return attempt();
        }
        this.tokens = null;
        this.onSignedOut();
      }
      throw e;
    }
  }

  get(path, options) {
    return this.call("GET", path, undefined, options);
  }

  post(path, body, options) {
    return this.call("POST", path, body ?? {}, options);
  }

  patch(path, body, options) {
    return this.call("PATCH", path, body, options);
  }

  /** A picture (say a QR) fetched with the token, as an object URL for an <img>. */
  async imageUrl(path) {
    const blob = await this.call("GET", path, undefined, { raw: true });
    return URL.createObjectURL(blob);
  }
}

/** A problem+json answer, with the sentence to show. */
export class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.title || `请求失败（${status}）`);
    this.status = status;
    this.code = body?.code || "";
    this.body = body || {};
  }

  /** Title, then the detail when it adds something. */
  get sentence() {
    const { title, detail } = this.body;
    if (detail && detail !== title) return `${title || ""}${title ? "：" : ""}${detail}`;
    return title || this.message;
  }
}

async function request(method, path, body, { token, idempotencyKey, raw, headers } = {}) {
  const h = { Accept: raw ? "*/*" : "application/json", ...(headers || {}) };
  if (body !== undefined && !(body instanceof Blob) && typeof body !== "string") {
    h["Content-Type"] = "application/json";
  }
  if (token) h.Authorization = `Bearer ${token}`;
  if (idempotencyKey) h["Idempotency-Key"] = idempotencyKey;
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === "string" || body instanceof Blob ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiProblem(0, { code: "NETWORK", title: "网络不通，请检查网络后重试" });
  }
  if (resp.ok) {
    if (raw) return resp.blob();
    if (resp.status === 204) return null;
    const type = resp.headers.get("content-type") || "";
    return type.includes("json") ? resp.json() : resp.text();
  }
  let problem = null;
  try {
    problem = await resp.json();
  } catch {
    problem = null;
  }
  throw new ApiProblem(resp.status, problem);
}

/** An id from the API or a page's address, safe in a path: a UUID or nothing. */
export function uuid(raw) {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw || "") ? raw : null;
}

/** A fresh Idempotency-Key, so a retried tap claims or redeems once. */
export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

const civilFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

/** A UTC instant from the API as people read it: Beijing time, `2026-12-01 09:00`. */
export function civil(utc) {
  if (!utc) return "";
  const parts = Object.fromEntries(civilFormat.formatToParts(new Date(utc)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** The civil date of an instant, `2026-12-01`. */
export function civilDate(utc) {
  return civil(utc).slice(0, 10);
}

/** `<tag class=… …>children</tag>` without innerHTML, so nothing from the API runs. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Shows a message in a live region (read out by screen readers). */
export function say(region, text, kind = "info") {
  region.textContent = text;
  region.dataset.kind = kind;
}
