// 网格通 demo web chat: plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

const T = {
  pickFirst: "请在左侧选择一个人，以他的身份和机器人对话。",
  empty: "还没有消息。点“开始”打开与机器人的对话。",
  groupEmpty: "群里还没有消息。",
  edited: "已编辑",
  joined: (n) => `${n} 加入了群组`,
  left: (n) => `${n} 离开了群组`,
  service: "群组消息",
  leader: "网格长",
  admin: "管理员",
  group: "群",
  privateSub: "私聊",
  groupSub: "群组",
  noGrid: "其他用户",
  tryTitle: "试一试",
  tryPair: (grid) => `开两个窗口：一个扮演${grid}的网格员上报隐患，另一个扮演本网格的网格长，卡片会实时送到。`,
  tryAdmin: "管理员：可在部门值班群里 /bind 绑定。",
  clockNow: (s) => `演示时间：${s}`,
  clockRan: (jobs) => (jobs.length ? `已运行：${jobs.join("、")}` : "没有到点的任务"),
  jobs: { digest: "每日汇总", nag: "催办提醒", sweep: "超时巡检" },
  externalLink: (u) => `演示环境不打开外部链接：${u}`,
  fencesNone: "本演示的网格未设地理围栏：在示意区域点选，或直接输入坐标。",
  fencesSome: "点击地图上的网格选择位置，或直接输入坐标。",
  badPoint: "请输入有效的纬度和经度",
  failed: "操作失败",
  disconnected: "连接已断开，正在重连…",
};

const state = {
  me: null, // {id, first_name}
  roster: [],
  bot: null,
  chats: [],
  chatId: null,
  unread: {},
  cursor: 0,
  source: null,
  locTarget: null, // {kind: "location"} or {kind: "key", row, col}
  map: null,
  reading: false, // a read of the open chat is under way
  again: false, // news came during it: read once more
  jump: false, // scroll to the bottom after the next read
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "html") node.innerHTML = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function api(path, body, form) {
  const opts = body === undefined && !form ? {} : { method: "POST" };
  if (form) opts.body = form;
  else if (body !== undefined) {
    opts.body = JSON.stringify(body);
    opts.headers = { "Content-Type": "application/json" };
  }
  const resp = await fetch("api/" + path, opts);
  const data = await resp.json();
  if (!data.ok) throw new Error(data.error || T.failed);
  return data.result;
}

function toast(text, long) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), long ? 6000 : 2500);
}

async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    toast(err.message || T.failed, true);
  }
}

// -- who am I -----------------------------------------------------------------
async function loadRoster() {
  const data = await api("roster");
  state.roster = data.people;
  state.bot = data.bot;
  renderRoster();
}

function personButton(person, note) {
  return el(
    "button",
    {
      type: "button",
      class: "person",
      "data-uid": person.tg_id,
      onclick: () => guarded(() => become(person.tg_id)),
    },
    el("span", { class: "name" }, note ? `${person.name}（${note}）` : person.name),
    person.leader ? el("span", { class: "badge leader" }, T.leader) : null,
    person.admin ? el("span", { class: "badge admin" }, T.admin) : null,
    el("span", { class: "uid" }, person.tg_id),
  );
}

// Whom to be first: the deepest grid with a leader and someone else (one reports, the other
// gets the card), and an admin.
function suggestions() {
  const byGrid = new Map();
  for (const p of state.roster) {
    if (!byGrid.has(p.grid_code)) byGrid.set(p.grid_code, []);
    byGrid.get(p.grid_code).push(p);
  }
  let pair = null;
  for (const people of byGrid.values()) {
    const leader = people.find((p) => p.leader);
    const member = people.find((p) => !p.leader && !p.admin);
    const level = people[0].grid_level || 0;
    if (leader && member && (!pair || level > pair.level)) pair = { leader, member, level };
  }
  const box = el("div", { class: "suggest" }, el("div", { class: "section-title" }, T.tryTitle));
  if (pair) {
    box.append(el("div", { class: "hint" }, T.tryPair(pair.member.grid_name)));
    box.append(personButton(pair.member, pair.member.role_label));
    box.append(personButton(pair.leader, pair.leader.role_label));
  }
  const admin = state.roster.find((p) => p.admin);
  if (admin) box.append(el("div", { class: "hint" }, T.tryAdmin), personButton(admin, admin.role_label));
  return pair || admin ? box : null;
}

function renderRoster() {
  const list = $("roster-list");
  const needle = $("roster-filter").value.trim().toLowerCase();
  list.replaceChildren();
  if (!needle) {
    const tips = suggestions();
    if (tips) list.append(tips);
  }
  const grids = new Map();
  for (const p of state.roster) {
    const hay = `${p.name} ${p.tg_id} ${p.grid_name || ""} ${p.grid_code || ""} ${p.role_label || ""}`;
    if (needle && !hay.toLowerCase().includes(needle)) continue;
    const key = p.grid_code || "";
    if (!grids.has(key)) grids.set(key, { p, roles: new Map() });
    const roles = grids.get(key).roles;
    const role = p.role_label || "";
    if (!roles.has(role)) roles.set(role, []);
    roles.get(role).push(p);
  }
  let shown = 0;
  for (const [code, { p, roles }] of grids) {
    const depth = Math.max((p.grid_level || 1) - 1, 0);
    const open = needle !== "" || depth < 3 || shown < 1;
    const box = el("details", { class: "grid", open, style: `margin-left:${depth * 8}px` });
    box.append(el("summary", {}, code ? `${p.grid_name}（${code}）` : T.noGrid));
    for (const [role, people] of roles) {
      if (role) box.append(el("div", { class: "role" }, role));
      for (const person of people) box.append(personButton(person));
    }
    list.append(box);
    shown += 1;
  }
}

async function become(uid) {
  const data = await api(`chats?user_id=${uid}`);
  state.me = data.user;
  state.chats = data.chats;
  state.cursor = data.cursor;
  state.unread = {};
  const entry = state.roster.find((p) => p.tg_id === uid);
  $("me-name").textContent = entry
    ? `${entry.name} · ${entry.role_label || ""} · ${uid}`
    : `${data.user.first_name} · ${uid}`;
  $("roster").hidden = true;
  $("chats").hidden = false;
  $("switch-btn").hidden = false;
  history.replaceState(null, "", `?as=${uid}`);
  listen();
  await openChat(uid);
}

function renderChats() {
  const list = $("chat-list");
  list.replaceChildren();
  for (const c of state.chats) {
    const n = state.unread[c.id] || 0;
    list.append(
      el(
        "button",
        {
          type: "button",
          class: "chat" + (c.id === state.chatId ? " active" : ""),
          "data-chat": c.id,
          onclick: () => guarded(() => openChat(c.id)),
        },
        el("span", { class: "avatar" + (c.type === "private" ? "" : " group") }, c.title.slice(0, 1)),
        el("span", { class: "name" }, c.title),
        n ? el("span", { class: "unread" }, n) : null,
      ),
    );
  }
}

// -- a chat -------------------------------------------------------------------
async function openChat(chatId) {
  state.chatId = chatId;
  state.unread[chatId] = 0;
  renderChats();
  $("composer").hidden = false;
  await refresh(true);
}

// One read of the open chat at a time: news that comes during a read asks for one more, so
// an older answer never lands after a newer one and the last news is always shown.
async function refresh(jump) {
  if (jump) state.jump = true;
  if (state.reading) {
    state.again = true;
    return;
  }
  state.reading = true;
  try {
    do {
      state.again = false;
      const scroll = state.jump;
      state.jump = false;
      await readChat(scroll);
    } while (state.again);
  } finally {
    state.reading = false;
  }
}

async function readChat(jump) {
  if (!state.me || state.chatId === null) return;
  const chatId = state.chatId;
  const data = await api(`messages?user_id=${state.me.id}&chat_id=${chatId}`);
  if (chatId !== state.chatId) {
    state.again = true;
    return;
  }
  const box = $("messages");
  const atBottom = jump || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  $("chat-title").textContent = data.chat.title;
  $("chat-sub").textContent = data.chat.type === "private" ? T.privateSub : T.groupSub;
  box.replaceChildren(...data.messages.map((m) => renderMessage(m, data.chat)));
  if (!data.messages.length) {
    box.append(el("div", { class: "placeholder" }, data.chat.type === "private" ? T.empty : T.groupEmpty));
  }
  $("start-box").hidden = !(data.chat.type === "private" && !data.messages.length);
  renderKeyboard(data.keyboard);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderMessage(m, chat) {
  if (m.service) {
    const names = m.service.names.join("、");
    const text =
      m.service.kind === "new_chat_members" ? T.joined(names)
      : m.service.kind === "left_chat_member" ? T.left(names)
      : T.service;
    return el("div", { class: "service" }, text);
  }
  const side = m.mine ? "mine" : m.from_bot ? "bot" : "other";
  const node = el("div", { class: `msg ${side}`, "data-mid": m.message_id });
  if (!m.mine && chat.type !== "private") node.append(el("div", { class: "sender" }, m.sender.name));
  if (m.reply_to) node.append(el("div", { class: "quote" }, `${m.reply_to.name}：${m.reply_to.text}`));
  if (m.photo) node.append(el("img", { class: "photo", src: `api/file/${encodeURIComponent(m.photo)}`, alt: "图片" }));
  if (m.document) {
    node.append(
      el("div", { class: "doc" }, "文件：",
        el("a", { href: `api/file/${encodeURIComponent(m.document.file_id)}`, download: m.document.name || "file" },
          m.document.name || "文件")),
    );
  }
  if (m.location) {
    node.append(el("div", { class: "loc" }, `位置：${m.location.latitude.toFixed(5)}, ${m.location.longitude.toFixed(5)}`));
  }
  if (m.contact) node.append(el("div", { class: "loc" }, `电话：${m.contact}`));
  if (m.html) {
    const text = el("div", { class: "text", html: m.html });
    for (const a of text.querySelectorAll("a")) {
      const href = a.getAttribute("href") || "";
      if (!/^https?:/i.test(href)) a.removeAttribute("href");
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        guarded(() => followUrl(href));
      });
    }
    node.append(text);
  }
  node.append(el("div", { class: "meta" }, m.edited ? `${T.edited} · ${m.time}` : m.time));
  if (m.buttons.length) {
    const grid = el("div", { class: "buttons" });
    m.buttons.forEach((row, r) => {
      const line = el("div", { class: "row" });
      row.forEach((b, c) => {
        line.append(
          el(
            "button",
            {
              type: "button",
              class: "ibtn" + (b.kind === "url" ? " link" : ""),
              onclick: () => guarded(() => pressInline(m.message_id, r, c, b)),
            },
            b.kind === "url" ? `${b.text} ↗` : b.text,
          ),
        );
      });
      grid.append(line);
    });
    node.append(grid);
  }
  return node;
}

async function pressInline(messageId, row, col, button) {
  if (button.kind === "url") return followUrl(button.url);
  await api("press", { user_id: state.me.id, chat_id: state.chatId, message_id: messageId, row, col });
}

async function followUrl(url) {
  // A deep link to this bot (t.me/<bot>?start=X) opens the private chat with /start X.
  const bot = state.bot && state.bot.username;
  const m = /^https:\/\/t\.me\/([A-Za-z0-9_]+)(?:\?start=([A-Za-z0-9_-]+))?$/.exec(url || "");
  if (m && bot && m[1].toLowerCase() === bot.toLowerCase()) {
    await openChat(state.me.id);
    await api("send", { user_id: state.me.id, chat_id: state.me.id, text: m[2] ? `/start ${m[2]}` : "/start" });
    return;
  }
  toast(T.externalLink(url), true);
}

function renderKeyboard(rows) {
  const box = $("keyboard");
  box.replaceChildren();
  box.hidden = !rows.length;
  rows.forEach((row, r) => {
    const line = el("div", { class: "row" });
    row.forEach((b, c) => {
      line.append(
        el(
          "button",
          {
            type: "button",
            class: "kbtn",
            onclick: () =>
              guarded(async () => {
                if (b.location) return openLocation({ kind: "key", row: r, col: c });
                await api("key", { user_id: state.me.id, chat_id: state.chatId, row: r, col: c });
              }),
          },
          b.text,
        ),
      );
    });
    box.append(line);
  });
}

// -- live ---------------------------------------------------------------------
function listen() {
  if (state.source) state.source.close();
  const source = new EventSource(`api/events?user_id=${state.me.id}&since=${state.cursor}`);
  state.source = source;
  let pending = null;
  source.onmessage = (ev) => {
    const e = JSON.parse(ev.data);
    if (e.kind === "clock") return void guarded(loadClock);
    if (e.answer) toast(e.answer, e.alert);
    if (e.kind === "press" || e.kind === "callback_answer") return;
    if (e.chat_id === state.chatId) {
      clearTimeout(pending);
      pending = setTimeout(() => guarded(() => refresh(false)), 30);
    } else if (e.kind === "sent" || e.kind === "user") {
      state.unread[e.chat_id] = (state.unread[e.chat_id] || 0) + 1;
      renderChats();
    }
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) toast(T.disconnected);
  };
}

// -- sending ------------------------------------------------------------------
async function sendText(ev) {
  ev.preventDefault();
  const input = $("text");
  const text = input.value.trim();
  if (!text || !state.me) return;
  input.value = "";
  await api("send", { user_id: state.me.id, chat_id: state.chatId, text });
}

async function sendPhoto() {
  const file = $("photo-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("user_id", state.me.id);
  form.append("chat_id", state.chatId);
  const caption = $("text").value.trim();
  if (caption) form.append("caption", caption);
  form.append("file", file);
  $("photo-file").value = "";
  $("text").value = "";
  await api("photo", undefined, form);
}

// -- location picker ----------------------------------------------------------
async function openLocation(target) {
  state.locTarget = target;
  if (!state.map) state.map = await api("map");
  drawMap(state.map);
  $("loc-dialog").hidden = false;
}

function fencePoints(f) {
  if (f.shape.polygon) return f.shape.polygon;
  const [lat, lon] = f.shape.center;
  const dLat = f.shape.radius_m / 111320;
  const dLon = dLat / Math.max(Math.cos((lat * Math.PI) / 180), 0.01);
  return [[lat - dLat, lon - dLon], [lat + dLat, lon + dLon]];
}

function drawMap(map) {
  const svg = $("loc-map");
  const NS = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const fences = map.fences || [];
  $("loc-note").textContent = fences.length ? T.fencesSome : T.fencesNone;
  let pts = fences.flatMap(fencePoints);
  if (!pts.length) {
    const [lat, lon] = map.default;
    pts = [[lat - 0.01, lon - 0.013], [lat + 0.01, lon + 0.013]];
  }
  const lats = pts.map((p) => p[0]);
  const lons = pts.map((p) => p[1]);
  const pad = 0.1;
  let [s, n, w, e] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const dy = (n - s) * pad || 0.001;
  const dx = (e - w) * pad || 0.001;
  [s, n, w, e] = [s - dy, n + dy, w - dx, e + dx];
  // One scale both ways (a degree of longitude is cos(lat) of a degree of latitude), centred:
  // a round fence stays round.
  const kx = Math.cos((((s + n) / 2) * Math.PI) / 180);
  const scale = Math.min(400 / ((e - w) * kx), 300 / (n - s));
  const x0 = (400 - (e - w) * kx * scale) / 2;
  const y0 = (300 - (n - s) * scale) / 2;
  const X = (lon) => x0 + (lon - w) * kx * scale;
  const Y = (lat) => y0 + (n - lat) * scale;
  const lonAt = (x) => w + (x - x0) / (kx * scale);
  const latAt = (y) => n - (y - y0) / scale;
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    svg.append(node);
    return node;
  };
  add("rect", { x: 0, y: 0, width: 400, height: 300, class: "map-bg" });
  for (let i = 1; i < 8; i++) add("line", { x1: i * 50, y1: 0, x2: i * 50, y2: 300, class: "map-line" });
  for (let i = 1; i < 6; i++) add("line", { x1: 0, y1: i * 50, x2: 400, y2: i * 50, class: "map-line" });
  for (const f of fences) {
    if (f.shape.polygon) {
      const points = f.shape.polygon.map(([la, lo]) => `${X(lo)},${Y(la)}`).join(" ");
      add("polygon", { points, class: "fence" });
    } else {
      const [[la1, lo1], [la2, lo2]] = fencePoints(f);
      add("ellipse", {
        cx: X((lo1 + lo2) / 2), cy: Y((la1 + la2) / 2),
        rx: Math.abs(X(lo2) - X(lo1)) / 2, ry: Math.abs(Y(la2) - Y(la1)) / 2, class: "fence",
      });
    }
    const corners = fencePoints(f); // a polygon's points, or a circle's two corners
    const mid = (i) => corners.reduce((sum, p) => sum + p[i], 0) / corners.length;
    add("text", { x: X(mid(1)), y: Y(mid(0)) - 12, class: "fence-label" }, f.name); // above a pin
  }
  const mark = add("circle", { r: 6, class: "pin", cx: -20, cy: -20 });
  const setPoint = (lat, lon) => {
    $("loc-lat").value = lat.toFixed(6);
    $("loc-lon").value = lon.toFixed(6);
    mark.setAttribute("cx", X(lon));
    mark.setAttribute("cy", Y(lat));
  };
  svg.onclick = (ev) => {
    const box = svg.getBoundingClientRect();
    const x = ((ev.clientX - box.left) / box.width) * 400;
    const y = ((ev.clientY - box.top) / box.height) * 300;
    setPoint(latAt(y), lonAt(x));
  };
  const follow = () => {
    // Typed coordinates move the pin too.
    const [lat, lon] = [parseFloat($("loc-lat").value), parseFloat($("loc-lon").value)];
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) return;
    mark.setAttribute("cx", X(lon));
    mark.setAttribute("cy", Y(lat));
  };
  $("loc-lat").oninput = follow;
  $("loc-lon").oninput = follow;
  // The pin starts inside the first grid drawn, or in the middle.
  const first = fences.length ? fencePoints(fences[0]) : [[s, w], [n, e]];
  const avg = (i) => first.reduce((sum, p) => sum + p[i], 0) / first.length;
  setPoint(avg(0), avg(1));
}

async function sendLocation() {
  const lat = parseFloat($("loc-lat").value);
  const lon = parseFloat($("loc-lon").value);
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) throw new Error(T.badPoint);
  const target = state.locTarget || { kind: "location" };
  const where = { user_id: state.me.id, chat_id: state.chatId, latitude: lat, longitude: lon };
  if (target.kind === "key") await api("key", { ...where, row: target.row, col: target.col });
  else await api("location", where);
  $("loc-dialog").hidden = true;
}

// -- clock --------------------------------------------------------------------
async function loadClock() {
  const c = await api("clock");
  if (!c) {
    $("clock-box").hidden = true;
    return;
  }
  $("clock-now").textContent = T.clockNow(c.now);
}

async function jumpClock() {
  const c = await api("clock", { time: $("clock-time").value });
  $("clock-now").textContent = T.clockNow(c.now);
  $("clock-note").textContent = T.clockRan((c.ran || []).map((j) => T.jobs[j] || j));
}

// -- wiring -------------------------------------------------------------------
function init() {
  $("roster-filter").addEventListener("input", renderRoster);
  $("switch-btn").addEventListener("click", () => {
    $("roster").hidden = false;
    $("chats").hidden = true;
  });
  $("composer").addEventListener("submit", (ev) => guarded(() => sendText(ev)));
  $("photo-btn").addEventListener("click", () => $("photo-file").click());
  $("photo-file").addEventListener("change", () => guarded(sendPhoto));
  $("loc-btn").addEventListener("click", () => guarded(() => openLocation({ kind: "location" })));
  $("loc-cancel").addEventListener("click", () => ($("loc-dialog").hidden = true));
  $("loc-send").addEventListener("click", () => guarded(sendLocation));
  $("start-btn").addEventListener("click", () =>
    guarded(() => api("send", { user_id: state.me.id, chat_id: state.chatId, text: "/start" })),
  );
  $("clock-jump").addEventListener("click", () => guarded(jumpClock));
  guarded(async () => {
    await loadRoster();
    await loadClock();
    const as = new URLSearchParams(location.search).get("as");
    if (as) await become(parseInt(as, 10));
  });
  setInterval(() => guarded(loadClock), 30000);
}

init();
