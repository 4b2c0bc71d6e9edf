// The offline field app (离线外业, docs/field-app.md): everything drawn from the work package kept in IndexedDB, every
// entry saved on the phone at once and sent later. Texts, addresses and the user come from the shell's JSON
// (fieldwork/views.py), translated by Django.
import { openStore, wipeStore, wipeOthers, newEntry, sync } from "./store.js";
import { h, icon, fill, dateText } from "./ui.js";
import { appraisalForm, revisitForm, problemForm, helperReportForm } from "./forms.js";

const config = JSON.parse(document.getElementById("field-config").textContent);
const T = config.texts;
const main = document.getElementById("fa-main");
const state = { store: null, pkg: null, me: null, csrf: null, sent: [], syncing: false, signin: false, notices: [], pending: 0 };
const DAY = 24 * 60 * 60 * 1000;

// Start ------------------------------------------------------------------------------------------------------------

async function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.worker, { scope: config.urls.scope }).catch(() => {});
  }
  state.store = await openStore(config.user.id);
  state.pkg = await state.store.getPackage();
  if (state.pkg && new Date(state.pkg.expires_at).getTime() < Date.now()) {
    await wipe(T.expired_wiped);
  }
  if (navigator.onLine) await whoAmI();
  if (!state.me || state.me.user.id === config.user.id) {
    if (await wipeOthers(config.user.id)) state.notices.push({ kind: "warning", text: T.other_user_wiped });
  }
  window.addEventListener("online", () => {
    header();
    whoAmI().then(() => upload());
  });
  window.addEventListener("offline", header);
  window.addEventListener("hashchange", route);
  document.getElementById("fa-logout").addEventListener("submit", logout);
  await route();
  if (navigator.onLine) upload();
}

// The server says who is signed in: another user on this phone means this user's data goes (the shell and its
// database are this user's; the package must not be seen by the next person).
async function whoAmI() {
  try {
    const response = await fetch(config.urls.me, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401 || response.status === 403) {
      state.signin = true;
      return;
    }
    if (!response.ok) return;
    state.me = await response.json();
    state.csrf = state.me.csrf_token;
    state.signin = false;
    if (state.me.user && state.me.user.id !== config.user.id) {
      await wipe(T.other_user_wiped);
      location.reload();
    }
    if (state.me.photo) config.photo = state.me.photo;
  } catch {
    // offline after all
  }
}

async function wipe(message) {
  await wipeStore(state.store);
  state.store = await openStore(config.user.id);
  state.pkg = null;
  state.notices.push({ kind: "warning", text: message });
}

// Header and navigation ------------------------------------------------------------------------------------------

async function header() {
  const entries = state.store ? await state.store.entries() : [];
  state.pending = entries.length;
  const online = navigator.onLine;
  const status = document.getElementById("fa-online");
  status.className = `fa-online ${online ? "is-online" : "is-offline"}`;
  status.replaceChildren(icon(online ? "wifi" : "wifi-off"), " ", online ? T.online : T.offline);
  const pending = document.getElementById("fa-pending");
  pending.replaceChildren(icon("cloud-arrow-up"), " ", fill(T.n_pending, { n: entries.length }));
  pending.classList.toggle("has-pending", entries.length > 0);
  document.querySelectorAll("[data-tab]").forEach((tab) => {
    let current = (location.hash || "#/").split("/")[1] || "";
    if (!state.pkg && current !== "queue") current = "package"; // without a package every view is the package's
    tab.toggleAttribute("aria-current", tab.dataset.tab === current);
    if (tab.dataset.tab === "queue") tab.querySelector(".fa-tab-count").textContent = entries.length ? String(entries.length) : "";
  });
  return entries;
}

function banners(entries) {
  const out = [];
  for (const notice of state.notices.splice(0)) {
    out.push(h("div", { class: `alert alert-${notice.kind}`, role: "status" }, notice.text));
  }
  if (state.signin) {
    out.push(
      h(
        "div",
        { class: "alert alert-danger fa-banner", role: "alert" },
        h("span", {}, T.signed_out),
        h("a", { class: "btn btn-danger", href: config.urls.login }, T.sign_in),
      ),
    );
  }
  const attention = entries.filter((entry) => entry.state !== "queued").length;
  if (attention && !(location.hash || "").startsWith("#/queue")) {
    out.push(
      h(
        "div",
        { class: "alert alert-warning fa-banner", role: "alert" },
        h("span", {}, fill(T.n_attention, { n: attention })),
        h("a", { class: "btn btn-warning", href: "#/queue" }, T.see_entries),
      ),
    );
  }
  if (state.pkg && entries.length) {
    const left = new Date(state.pkg.expires_at).getTime() - Date.now();
    if (left < DAY) {
      out.push(h("div", { class: "alert alert-warning", role: "alert" }, fill(T.expiry_soon, { when: dateText(state.pkg.expires_at), n: entries.length })));
    }
  }
  return out;
}

function show(title, ...content) {
  document.title = `${title} · ${T.app_name}`;
  main.replaceChildren(h("div", { class: "fa-view-body" }, content));
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

const ctx = (back = "#/") => ({ T, config, pkg: state.pkg, back, save: saveEntry });

async function route() {
  const entries = await header();
  const parts = (location.hash || "#/").slice(2).split("/");
  const [view, id] = [parts[0], parts[1]];
  const top = banners(entries);
  if (view === "queue") return queueView(top, entries);
  if (view === "package" || !state.pkg) return packageView(top, entries);
  const household = (key) => state.pkg.households.find((item) => String(item.id) === String(key));
  if (view === "h" && household(id)) return householdView(top, household(id), entries);
  if (view === "appraise" && state.pkg.forms.appraisal) {
    const found = findDwelling(id);
    if (found) return show(T.appraise_title, ...top, appraisalForm(ctx(`#/h/${found.household.id}`), found.dwelling, found.household));
  }
  if (view === "revisit") {
    const revisit = (state.pkg.revisits || []).find((item) => String(item.id) === id);
    if (revisit) return show(T.revisit_title, ...top, revisitForm(ctx(`#/h/${revisit.household}`), revisit, household(revisit.household)));
  }
  if (view === "problem") {
    const problem = (state.pkg.problems || []).find((item) => String(item.id) === id);
    if (problem) return show(T.problem_title, ...top, problemForm(ctx(`#/h/${problem.household}`), problem, household(problem.household)));
  }
  if (view === "report" && household(id) && state.pkg.forms.helper_report) return show(T.report_title, ...top, helperReportForm(ctx(`#/h/${id}`), household(id)));
  if (view === "edit") {
    const entry = entries.find((item) => item.id === id);
    if (entry) return editView(top, entry);
  }
  return householdsView(top);
}

function findDwelling(id) {
  for (const household of state.pkg.households) {
    const dwelling = household.dwellings.find((item) => String(item.id) === String(id));
    if (dwelling) return { household, dwelling };
  }
  return null;
}

// Saving and sending ---------------------------------------------------------------------------------------------

async function saveEntry(kind, target, fields, photos, title) {
  const editing = (location.hash || "").startsWith("#/edit/") ? await state.store.getEntry(location.hash.split("/")[2]) : null;
  const entry = editing
    ? { ...editing, fields, photos, title, state: "queued", answer: null, saved_at: new Date().toISOString() }
    : newEntry(kind, target, fields, photos, title);
  await state.store.putEntry(entry);
  state.notices.push({ kind: "success", text: navigator.onLine ? T.saved_sending : T.saved_offline });
  location.hash = kind === "helper_report" || kind === "appraisal" || kind === "revisit" || kind === "problem" ? backTo(kind, target) : "#/";
  if (navigator.onLine) upload();
}

function backTo(kind, target) {
  if (!state.pkg) return "#/";
  if (kind === "helper_report") return `#/h/${target}`;
  if (kind === "appraisal") return `#/h/${findDwelling(target)?.household.id ?? ""}`;
  const list = kind === "revisit" ? state.pkg.revisits : state.pkg.problems;
  const item = (list || []).find((x) => String(x.id) === String(target));
  return item ? `#/h/${item.household}` : "#/";
}

function isFormView() {
  return /^#\/(appraise|revisit|problem|report|edit)\//.test(location.hash || "");
}

async function upload() {
  if (state.syncing || !navigator.onLine) return;
  const waiting = (await state.store.entries()).filter((entry) => entry.state === "queued");
  if (!waiting.length) return; // nothing to send: no redraw (the package's list would load again)
  state.syncing = true;
  const button = document.querySelector("[data-upload]");
  if (button) button.disabled = true;
  try {
    if (!state.csrf) await whoAmI();
    const result = await sync(state.store, { urls: config.urls, csrfToken: state.csrf, onProgress: header });
    state.sent.push(...result.sent);
    if (result.sent.length && state.pkg) await applySent(result.sent);
    if (result.outcome === "signin") state.signin = true;
    else if (result.outcome === "offline") state.notices.push({ kind: "warning", text: T.sync_stopped });
    else if (result.sent.length) state.notices.push({ kind: "success", text: fill(T.sent_n, { n: result.sent.length }) });
  } finally {
    state.syncing = false;
    // a form being filled in is never redrawn under the person's fingers: only the header learns what was sent
    if (isFormView()) await header();
    else await route();
  }
}

// What the system now has, in the package too: a sent revisit is no longer due, an appraised house no longer to
// appraise (its new version is the answer's id, "a:<id>" as the package names it), a moved problem in its new state.
async function applySent(sent) {
  const pkg = state.pkg;
  for (const entry of sent) {
    if (entry.kind === "revisit") pkg.revisits = (pkg.revisits || []).filter((r) => r.id !== entry.target);
    if (entry.kind === "appraisal") {
      const found = findDwelling(entry.target);
      if (!found) continue;
      const grades = (pkg.forms.appraisal && pkg.forms.appraisal.grades) || [];
      Object.assign(found.dwelling, {
        to_appraise: false,
        grade: entry.fields.grade,
        grade_label: (grades.find(([code]) => code === entry.fields.grade) || [, entry.fields.grade])[1],
        appraised_on: entry.fields.appraised_on,
        based_on: entry.answer && entry.answer.id ? `a:${entry.answer.id}` : found.dwelling.based_on,
      });
    }
    if (entry.kind === "problem") {
      const problem = (pkg.problems || []).find((p) => p.id === entry.target);
      if (!problem) continue;
      const move = problem.moves.find((m) => m.to === entry.fields.to);
      Object.assign(problem, {
        status: entry.fields.to,
        status_label: move ? fill(T.problem_moved, { move: move.label }) : problem.status_label,
        based_on: entry.fields.to,
        moves: problem.moves.filter((m) => m.to !== entry.fields.to),
      });
    }
  }
  await state.store.putPackage(pkg);
}

// Synchronous, or the form would be on its way before the answer: the count is the header's, kept fresh.
function logout(event) {
  if (state.pending && !window.confirm(fill(T.logout_warning, { n: state.pending }))) event.preventDefault();
}

// Views ------------------------------------------------------------------------------------------------------------

function sizeText(bytes) {
  return fill(T.about_kb, { n: Math.max(1, Math.round((bytes || 0) / 1024)) });
}

async function packageView(top, entries) {
  const current = state.pkg
    ? h(
        "section",
        { class: "fa-card" },
        h("h2", {}, T.current_package),
        h("p", { class: "fa-big" }, state.pkg.scope && state.pkg.scope.village ? `${state.pkg.scope.village.township} ${state.pkg.scope.village.name}` : T.my_households),
        h(
          "dl",
          { class: "fa-record" },
          h("dt", {}, T.taken_at),
          h("dd", {}, `${dateText(state.pkg.taken_at)}（${ageText(state.pkg.taken_at)}）`),
          h("dt", {}, T.expires_at),
          h("dd", {}, dateText(state.pkg.expires_at)),
          h("dt", {}, T.households),
          h("dd", {}, String(state.pkg.households.length)),
        ),
        h("a", { class: "btn btn-primary btn-lg w-100", href: "#/" }, icon("house-door"), " ", T.open_households),
      )
    : h("div", { class: "alert alert-info" }, T.no_package);
  const list = h("div", { class: "fa-villages", "aria-live": "polite" }, h("p", { class: "fa-hint" }, navigator.onLine ? T.loading : T.need_signal));
  show(T.package_title, ...top, h("h1", {}, T.package_title), current, h("h2", { class: "fa-group" }, T.take_package), list);
  if (!navigator.onLine) return;
  try {
    const response = await fetch(config.urls.villages, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      state.signin = true;
      return route();
    }
    if (!response.ok) throw new Error(String(response.status));
    const { villages } = await response.json();
    list.replaceChildren(
      ...(villages.length ? villages.map((village) => villageCard(village, entries)) : [h("p", { class: "fa-hint" }, T.no_villages)]),
    );
  } catch {
    list.replaceChildren(h("p", { class: "alert alert-warning" }, T.villages_failed));
  }
}

function ageText(iso) {
  const days = Math.floor((Date.now() - new Date(iso).getTime()) / DAY);
  return days <= 0 ? T.taken_today : fill(T.days_ago, { n: days });
}

function villageCard(village, entries) {
  const button = h("button", { type: "button", class: "btn btn-primary btn-lg w-100" }, icon("download"), " ", T.download);
  const status = h("p", { class: "fa-hint", role: "status" });
  button.addEventListener("click", async () => {
    if (entries.length && state.pkg && !window.confirm(T.replace_warning)) return;
    button.disabled = true;
    status.textContent = T.downloading;
    try {
      const url = village.id === null ? config.urls.package : `${config.urls.package}?village=${encodeURIComponent(village.id)}`;
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.status === 401) {
        state.signin = true;
        return route();
      }
      if (!response.ok) throw new Error(String(response.status));
      const pkg = await response.json();
      await state.store.putPackage(pkg);
      state.pkg = pkg;
      state.notices.push({ kind: "success", text: fill(T.downloaded, { n: pkg.households.length }) });
      // a new hash draws the households (hashchange); the same hash does not, so draw them here: once either way,
      // or the second drawing would lose the notice the first one showed
      if (location.hash === "#/") route();
      else location.hash = "#/";
    } catch {
      status.textContent = T.download_failed;
      button.disabled = false;
    }
  });
  return h(
    "article",
    { class: "fa-card fa-village" },
    h("h3", {}, village.id === null ? T.my_households : `${village.township} ${village.name}`),
    h("p", { class: "fa-counts" }, fill(T.village_counts, { households: village.households, items: village.items }), " · ", sizeText(village.estimated_bytes)),
    button,
    status,
  );
}

function householdsView(top) {
  const search = h("input", { type: "search", class: "form-control form-control-lg", placeholder: T.search_name, "aria-label": T.search_name });
  const list = h("ul", { class: "fa-list" });
  const todo = (household) => {
    const appraise = household.dwellings.filter((d) => d.to_appraise).length;
    const revisits = (state.pkg.revisits || []).filter((r) => r.household === household.id).length;
    const problems = (state.pkg.problems || []).filter((p) => p.household === household.id).length;
    return [
      appraise ? h("span", { class: "fa-pill fa-pill-warn" }, fill(T.n_to_appraise, { n: appraise })) : null,
      revisits ? h("span", { class: "fa-pill fa-pill-info" }, fill(T.n_revisits, { n: revisits })) : null,
      problems ? h("span", { class: "fa-pill fa-pill-danger" }, fill(T.n_problems, { n: problems })) : null,
    ];
  };
  const draw = () => {
    const term = search.value.trim();
    const shown = state.pkg.households.filter((item) => !term || item.head_name.includes(term));
    list.replaceChildren(
      ...(shown.length
        ? shown.map((household) =>
            h(
              "li",
              {},
              h(
                "a",
                { href: `#/h/${household.id}` },
                h("span", { class: "fa-name" }, household.head_name),
                h("span", { class: "fa-where" }, [household.village, household.group].filter(Boolean).join(" ")),
                h("span", { class: "fa-pills" }, todo(household)),
                icon("chevron-right"),
              ),
            ),
          )
        : [h("li", { class: "fa-empty" }, T.no_households)]),
    );
  };
  search.addEventListener("input", draw);
  draw();
  const where = state.pkg.scope && state.pkg.scope.village ? `${state.pkg.scope.village.township} ${state.pkg.scope.village.name}` : T.my_households;
  show(T.households, ...top, h("h1", {}, where), h("p", { class: "fa-sub" }, fill(T.package_line, { n: state.pkg.households.length, when: dateText(state.pkg.expires_at) })), search, list);
}

function householdView(top, household, entries) {
  const waiting = (kind, target) => entries.some((entry) => entry.kind === kind && String(entry.target) === String(target));
  const saved = (kind, target) => (waiting(kind, target) ? h("p", { class: "fa-saved" }, icon("cloud-arrow-up"), " ", T.entry_waiting) : null);
  const revisits = (state.pkg.revisits || []).filter((r) => r.household === household.id);
  const problems = (state.pkg.problems || []).filter((p) => p.household === household.id);
  const staff = !!state.pkg.forms.appraisal;
  const dwellingCard = (dwelling) =>
    h(
      "article",
      { class: "fa-card" },
      h(
        "div",
        { class: "fa-row" },
        h("h3", {}, dwelling.address || T.dwelling),
        dwelling.grade ? h("span", { class: `grade grade-${dwelling.grade}` }, dwelling.grade_label || dwelling.grade) : h("span", { class: "fa-pill fa-pill-warn" }, T.never_appraised),
      ),
      h("p", { class: "fa-hint" }, [dwelling.structure_label, dwelling.floors ? fill(T.floors, { n: dwelling.floors }) : null, dwelling.area ? fill(T.area, { n: dwelling.area }) : null, dwelling.year_built ? fill(T.built, { n: dwelling.year_built }) : null].filter(Boolean).join(" · ")),
      dwelling.appraised_on ? h("p", { class: "fa-hint" }, fill(T.appraised_on, { date: dwelling.appraised_on })) : null,
      saved("appraisal", dwelling.id),
      staff
        ? h("a", { class: `btn btn-lg w-100 ${dwelling.to_appraise ? "btn-primary" : "btn-outline-primary"}`, href: `#/appraise/${dwelling.id}` }, icon("clipboard-check"), " ", dwelling.to_appraise ? T.appraise_due : T.appraise)
        : null,
    );
  const sections = [
    h("h1", {}, household.head_name),
    h("p", { class: "fa-sub" }, [household.village, household.group, household.status_label].filter(Boolean).join(" · ")),
    h(
      "dl",
      { class: "fa-record" },
      household.id_number ? [h("dt", {}, T.id_number), h("dd", {}, household.id_number)] : null,
      household.phone ? [h("dt", {}, T.phone), h("dd", {}, household.phone)] : null,
      (household.flags || []).length ? [h("dt", {}, T.flags), h("dd", {}, household.flags.join("、"))] : null,
    ),
    household.may_report
      ? h("a", { class: "btn btn-primary btn-lg w-100 mb-3", href: `#/report/${household.id}` }, icon("megaphone"), " ", T.report_problem)
      : null,
    household.may_report ? saved("helper_report", household.id) : null,
    h("h2", { class: "fa-group" }, T.dwellings),
    household.dwellings.length ? household.dwellings.map(dwellingCard) : h("p", { class: "fa-hint" }, T.no_dwellings),
  ];
  if (staff) {
    sections.push(h("h2", { class: "fa-group" }, T.revisits_due));
    sections.push(
      revisits.length
        ? revisits.map((revisit) =>
            h(
              "article",
              { class: "fa-card" },
              h("h3", {}, revisit.campaign),
              h("p", { class: "fa-hint" }, fill(T.due_on, { date: revisit.due_on })),
              saved("revisit", revisit.id),
              h("a", { class: "btn btn-primary btn-lg w-100", href: `#/revisit/${revisit.id}` }, icon("journal-check"), " ", T.record_revisit),
            ),
          )
        : h("p", { class: "fa-hint" }, T.no_revisits),
    );
    sections.push(h("h2", { class: "fa-group" }, T.open_problems));
    sections.push(
      problems.length
        ? problems.map((problem) =>
            h(
              "article",
              { class: "fa-card" },
              h("div", { class: "fa-row" }, h("h3", {}, `${problem.kind_label} · ${problem.number}`), h("span", { class: "fa-pill fa-pill-danger" }, problem.status_label)),
              problem.description ? h("p", {}, problem.description) : null,
              h("p", { class: "fa-hint" }, fill(T.due_on, { date: problem.due_on })),
              saved("problem", problem.id),
              problem.moves.length
                ? h("a", { class: "btn btn-outline-primary btn-lg w-100", href: `#/problem/${problem.id}` }, icon("arrow-right-circle"), " ", T.move_problem)
                : null,
            ),
          )
        : h("p", { class: "fa-hint" }, T.no_problems),
    );
  }
  show(household.head_name, ...top, h("a", { class: "fa-backlink", href: "#/" }, icon("chevron-left"), " ", T.all_households), ...sections);
}

function editView(top, entry) {
  if (!state.pkg) return packageView(top, []);
  const c = ctx("#/queue");
  const household = (key) => state.pkg.households.find((item) => String(item.id) === String(key));
  let form = null;
  if (entry.kind === "appraisal") {
    const found = findDwelling(entry.target);
    if (found) form = appraisalForm(c, found.dwelling, found.household, entry);
  } else if (entry.kind === "revisit") {
    const revisit = (state.pkg.revisits || []).find((item) => item.id === entry.target);
    if (revisit) form = revisitForm(c, revisit, household(revisit.household), entry);
  } else if (entry.kind === "problem") {
    const problem = (state.pkg.problems || []).find((item) => item.id === entry.target);
    if (problem) form = problemForm(c, problem, household(problem.household), entry);
  } else if (household(entry.target)) {
    form = helperReportForm(c, household(entry.target), entry);
  }
  const refusal = entry.answer ? answerMessages(entry.answer) : [];
  show(
    T.edit_title,
    ...top,
    refusal.length ? h("div", { class: "alert alert-danger" }, h("p", { class: "fw-bold mb-1" }, T.refused_title), h("ul", { class: "mb-0" }, refusal.map((m) => h("li", {}, m)))) : null,
    form || h("p", { class: "alert alert-warning" }, T.not_in_package),
  );
}

function answerMessages(answer) {
  return (answer.errors || []).map((error) => error.message).filter(Boolean);
}

const KIND = () => ({ appraisal: T.kind_appraisal, revisit: T.kind_revisit, problem: T.kind_problem, helper_report: T.kind_helper_report });

function queueView(top, entries) {
  const uploadButton = h(
    "button",
    { type: "button", class: "btn btn-success btn-lg w-100", "data-upload": true, disabled: !navigator.onLine || state.syncing || !entries.some((entry) => entry.state === "queued"), onclick: () => upload() },
    icon("cloud-arrow-up"),
    " ",
    T.upload_now,
  );
  const items = entries.map((entry) => entryCard(entry));
  const sent = state.sent.length
    ? [
        h("h2", { class: "fa-group" }, T.sent_title),
        h(
          "ul",
          { class: "fa-sent" },
          state.sent.map((entry) => h("li", {}, icon("check-circle-fill"), " ", entry.title || KIND()[entry.kind], h("span", { class: "fa-hint" }, ` ${dateText(entry.sent_at)}`))),
        ),
      ]
    : [];
  show(
    T.queue_title,
    ...top,
    h("h1", {}, T.queue_title),
    h("p", { class: "fa-sub" }, navigator.onLine ? T.queue_hint_online : T.queue_hint_offline),
    uploadButton,
    items.length ? h("div", { class: "fa-entries" }, items) : h("p", { class: "fa-empty" }, T.queue_empty),
    ...sent,
  );
}

function entryCard(entry) {
  const stateLabel = { queued: T.state_queued, refused: T.state_refused, conflict: T.state_conflict }[entry.state];
  const pill = { queued: "fa-pill-info", refused: "fa-pill-danger", conflict: "fa-pill-warn" }[entry.state];
  const drop = h(
    "button",
    {
      type: "button",
      class: "btn btn-outline-danger btn-lg",
      onclick: async () => {
        if (!window.confirm(T.drop_confirm)) return;
        await state.store.deleteEntry(entry.id);
        route();
      },
    },
    icon("trash"),
    " ",
    T.drop,
  );
  const card = h(
    "article",
    { class: `fa-card fa-entry fa-entry-${entry.state}` },
    h("div", { class: "fa-row" }, h("h3", {}, entry.title || KIND()[entry.kind]), h("span", { class: `fa-pill ${pill}` }, stateLabel)),
    h("p", { class: "fa-hint" }, fill(T.saved_at, { when: dateText(entry.saved_at) }), entry.photos.length ? ` · ${fill(T.photos_n, { n: entry.photos.length })}` : ""),
  );
  if (entry.state === "refused") {
    card.append(
      h("div", { class: "alert alert-danger" }, h("p", { class: "fw-bold mb-1" }, T.refused_title), h("ul", { class: "mb-0" }, (answerMessages(entry.answer).length ? answerMessages(entry.answer) : [T.refused_unknown]).map((m) => h("li", {}, m)))),
      h("div", { class: "fa-actions" }, h("a", { class: "btn btn-primary btn-lg", href: `#/edit/${entry.id}` }, icon("pencil"), " ", T.fix), drop),
    );
  } else if (entry.state === "conflict") {
    card.append(conflictPanel(entry), h("div", { class: "fa-actions" }, conflictChoices(entry), drop));
  } else {
    card.append(h("div", { class: "fa-actions" }, h("a", { class: "btn btn-outline-primary btn-lg", href: `#/edit/${entry.id}` }, icon("pencil"), " ", T.edit), drop));
  }
  return card;
}

// A conflict: the server's current record beside the worker's own.
function conflictPanel(entry) {
  const current = (entry.answer && entry.answer.current) || {};
  const message = answerMessages(entry.answer || {})[0] || T.conflict_default;
  const f = entry.fields;
  const label = (choices, code) => ((choices || []).find(([c]) => c === code) || [code, code])[1];
  const problem = entry.kind === "problem" && state.pkg ? (state.pkg.problems || []).find((p) => p.id === entry.target) : null;
  const revisitForms = state.pkg && state.pkg.forms.revisit;
  const mine = {
    appraisal: [[T.c_date, f.appraised_on], [T.c_grade, label(state.pkg && state.pkg.forms.appraisal && state.pkg.forms.appraisal.grades, f.grade)], [T.c_appraisers, f.appraisers]],
    revisit: [[T.c_date, f.visited_on], [T.c_outcome, label(revisitForms && revisitForms.outcomes, f.outcome)]],
    problem: [[T.c_move, problem ? label(problem.moves.map((m) => [m.to, m.label]), f.to) : ""], [T.c_note, f.note]],
    helper_report: [],
  }[entry.kind];
  const theirs = {
    appraisal: [[T.c_date, current.appraised_on], [T.c_grade, current.grade_label || current.grade], [T.c_appraisers, current.appraisers], [T.c_recorded_by, current.recorded_by]],
    revisit: [[T.c_date, current.visited_on], [T.c_outcome, current.outcome_label], [T.c_recorded_by, current.recorded_by]],
    problem: [[T.c_status, current.status_label]],
    helper_report: [],
  }[entry.kind];
  const column = (title, rows) =>
    h("div", { class: "fa-side" }, h("h4", {}, title), h("dl", { class: "fa-record" }, rows.filter(([, v]) => v).map(([t, v]) => [h("dt", {}, t), h("dd", {}, String(v))])));
  return h(
    "div",
    { class: "fa-conflict" },
    h("p", { class: "alert alert-warning mb-2" }, message),
    current.summary ? h("p", { class: "fa-hint" }, current.summary) : null,
    h("div", { class: "fa-sides" }, column(T.theirs, theirs), column(T.mine, mine)),
  );
}

function conflictChoices(entry) {
  const current = (entry.answer && entry.answer.current) || {};
  if (entry.kind === "revisit" || !current.based_on) return null;
  const label = entry.kind === "appraisal" ? T.keep_mine : T.send_again;
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-primary btn-lg",
      onclick: async () => {
        const again = {
          ...entry,
          fields: { ...entry.fields, based_on: current.based_on },
          key: `${entry.id}-2`,
          state: "queued",
          answer: null,
        };
        await state.store.putEntry(again);
        if (navigator.onLine) upload();
        else route();
      },
    },
    icon("arrow-repeat"),
    " ",
    label,
  );
}

start();
