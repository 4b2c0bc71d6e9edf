// The four forms the phone fills without a signal: an appraisal, a revisit, a problem's move and a helper's report.
// Same fields and choices as the pages' forms (the package's `forms`); photos shrunk here before they are stored.
import { h, icon, fill, today } from "./ui.js";

let grading = null; // static/field/grading.js: the appraisal's grading rules (refusals block, warnings confirm)

async function gradingRules(url) {
  if (grading === null) {
    try {
      grading = await import(url);
    } catch {
      grading = {}; // not there: the server's rules still refuse on sync
    }
  }
  return grading;
}

// Photos --------------------------------------------------------------------------------------------------------

export async function shrink(file, maxSide, quality) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("toBlob"))), "image/jpeg", quality),
  );
}

function photoPicker(ctx, name, label, photos) {
  const { T, config } = ctx;
  const previews = h("div", { class: "fa-photos" });
  const status = h("p", { class: "fa-hint", role: "status" });
  const urls = [];
  const draw = () => {
    urls.splice(0).forEach((url) => URL.revokeObjectURL(url));
    previews.replaceChildren(
      ...photos.map((blob, index) => {
        const url = URL.createObjectURL(blob);
        urls.push(url);
        return h(
          "figure",
          { class: "fa-photo" },
          h("img", { src: url, alt: fill(T.photo_n, { n: index + 1 }) }),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-outline-danger btn-sm",
              "aria-label": fill(T.remove_photo_n, { n: index + 1 }),
              onclick: () => {
                photos.splice(index, 1);
                draw();
              },
            },
            icon("trash"),
            " ",
            T.remove,
          ),
        );
      }),
    );
  };
  const input = h("input", {
    type: "file",
    id: `f-${name}`,
    accept: "image/*",
    capture: "environment",
    multiple: true,
    class: "visually-hidden",
    onchange: async () => {
      const files = [...input.files];
      input.value = "";
      status.textContent = T.shrinking;
      for (const file of files) {
        try {
          photos.push(await shrink(file, config.photo.max_side, config.photo.quality));
        } catch {
          status.textContent = T.photo_unreadable;
          draw();
          return;
        }
      }
      status.textContent = photos.length ? fill(T.photos_n, { n: photos.length }) : "";
      draw();
    },
  });
  draw();
  return h(
    "div",
    { class: "fa-field", "data-field": name },
    h("span", { class: "fa-label" }, label),
    input,
    h("label", { for: `f-${name}`, class: "btn btn-outline-primary fa-camera" }, icon("camera"), " ", T.take_photo),
    status,
    previews,
  );
}

// Fields ----------------------------------------------------------------------------------------------------------

function errorSlot(name) {
  return h("p", { class: "fa-error", id: `e-${name}`, hidden: true });
}

function radios(name, label, choices, value, { hint, required = true } = {}) {
  return h(
    "fieldset",
    { class: "fa-field", "data-field": name },
    h("legend", { class: "fa-label" }, label, required ? null : null),
    hint ? h("p", { class: "fa-hint" }, hint) : null,
    h(
      "div",
      { class: choices.every(([, text]) => text.length <= 4) ? "fa-choices fa-compact" : "fa-choices" },
      choices.map(([code, text, description]) =>
        h(
          "label",
          { class: "fa-choice" },
          h("input", { type: "radio", name, value: code, checked: value === code }),
          h("span", {}, h("span", { class: "fa-choice-text" }, text), description ? h("small", {}, description) : null),
        ),
      ),
    ),
    errorSlot(name),
  );
}

function checks(name, label, choices, values, hint) {
  return h(
    "fieldset",
    { class: "fa-field", "data-field": name },
    h("legend", { class: "fa-label" }, label),
    hint ? h("p", { class: "fa-hint" }, hint) : null,
    h(
      "div",
      { class: "fa-choices" },
      choices.map(([code, text]) =>
        h(
          "label",
          { class: "fa-choice" },
          h("input", { type: "checkbox", name, value: code, checked: (values || []).includes(code) }),
          h("span", { class: "fa-choice-text" }, text),
        ),
      ),
    ),
    errorSlot(name),
  );
}

function flag(name, label, value) {
  return h(
    "div",
    { class: "fa-field", "data-field": name },
    h(
      "label",
      { class: "fa-choice" },
      h("input", { type: "checkbox", name, value: "true", checked: !!value }),
      h("span", { class: "fa-choice-text" }, label),
    ),
  );
}

function input(name, label, value, type = "text", attrs = {}) {
  return h(
    "div",
    { class: "fa-field", "data-field": name },
    h("label", { class: "fa-label", for: `f-${name}` }, label),
    type === "textarea"
      ? h("textarea", { id: `f-${name}`, name, rows: 3, class: "form-control", ...attrs }, value || "")
      : h("input", { id: `f-${name}`, name, type, value: value || "", class: "form-control", ...attrs }),
    errorSlot(name),
  );
}

function select(name, label, choices, value) {
  return h(
    "div",
    { class: "fa-field", "data-field": name },
    h("label", { class: "fa-label", for: `f-${name}` }, label),
    h(
      "select",
      { id: `f-${name}`, name, class: "form-select" },
      choices.map(([code, text]) => h("option", { value: code, selected: String(value ?? "") === String(code) }, text)),
    ),
    errorSlot(name),
  );
}

function read(form, name, kind = "one") {
  if (kind === "many") return [...form.querySelectorAll(`[name="${name}"]:checked`)].map((e) => e.value);
  if (kind === "flag") return !!form.querySelector(`[name="${name}"]:checked`);
  const checked = form.querySelector(`[name="${name}"]:checked`);
  if (checked) return checked.value;
  const field = form.querySelector(`[name="${name}"]:not([type=radio]):not([type=checkbox])`);
  return field ? field.value.trim() : "";
}

// Shows {field: message}; returns whether there were any. The summary links to each field, focused first.
function showErrors(form, errors, T) {
  form.querySelectorAll(".fa-error").forEach((slot) => {
    slot.hidden = true;
    slot.textContent = "";
  });
  form.querySelectorAll(".fa-field.has-error").forEach((field) => field.classList.remove("has-error"));
  const summary = form.querySelector(".fa-summary");
  const names = Object.keys(errors);
  if (!names.length) {
    summary.hidden = true;
    return false;
  }
  const items = names.map((name) => {
    const field = form.querySelector(`[data-field="${name}"]`);
    const slot = form.querySelector(`#e-${name}`);
    if (field) field.classList.add("has-error");
    if (slot) {
      slot.hidden = false;
      slot.textContent = errors[name];
    }
    const label = field ? field.querySelector(".fa-label")?.textContent : "";
    return h(
      "li",
      {},
      field
        ? h("a", { href: `#`, onclick: (event) => (event.preventDefault(), field.scrollIntoView({ block: "center" })) }, label ? `${label}：${errors[name]}` : errors[name])
        : errors[name],
    );
  });
  summary.replaceChildren(h("p", { class: "fw-bold mb-1" }, T.fix_errors), h("ul", {}, items));
  summary.hidden = false;
  summary.focus();
  summary.scrollIntoView({ block: "start" });
  return true;
}

function required(values, names, T) {
  const errors = {};
  for (const name of names) if (!values[name]) errors[name] = T.required;
  return errors;
}

function shell(ctx, title, subtitle, fields, onsubmit) {
  const { T } = ctx;
  const form = h(
    "form",
    { class: "fa-form", novalidate: true },
    h("div", { class: "fa-summary alert alert-danger", tabindex: "-1", role: "alert", hidden: true }),
    fields,
    h(
      "div",
      { class: "fa-actions" },
      h("button", { type: "submit", class: "btn btn-success btn-lg fa-save" }, icon("check2-circle"), " ", T.save_on_phone),
      h("a", { class: "btn btn-outline-secondary btn-lg", href: ctx.back }, T.cancel),
    ),
    h("p", { class: "fa-hint" }, T.saved_hint),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onsubmit(form);
  });
  return h("section", { class: "fa-view" }, h("h1", {}, title), subtitle ? h("p", { class: "fa-sub" }, subtitle) : null, form);
}

// The forms -------------------------------------------------------------------------------------------------------

export function appraisalForm(ctx, dwelling, household, entry) {
  const { T, pkg, config } = ctx;
  const spec = pkg.forms.appraisal;
  const labels = config.appraisal_labels;
  const v = entry ? entry.fields : { appraised_on: today(), organisation: spec.organisation || "", kind: "" };
  const photos = entry ? [...entry.photos] : [];
  const fields = [
    radios("kind", labels.kind, spec.kinds, v.kind),
    input("appraised_on", labels.appraised_on, v.appraised_on, "date"),
    input("organisation", labels.organisation, v.organisation),
    input("appraisers", labels.appraisers, v.appraisers),
    h("h2", { class: "fa-group" }, T.components),
    spec.components.map(([name, label]) => radios(name, label, spec.component_grades, v[name])),
    flag("site_hazard", labels.site_hazard, v.site_hazard === "true"),
    flag("is_leaking", labels.is_leaking, v.is_leaking === "true"),
    radios("grade", labels.grade, spec.grades, v.grade),
    radios("recommendation", labels.recommendation, spec.recommendations, v.recommendation),
    input("notes", labels.notes, v.notes, "textarea"),
    photoPicker(ctx, "photos", T.photos, photos),
  ];
  const view = shell(ctx, T.appraise_title, `${household.head_name} · ${dwelling.address || ""}`, fields, async (form) => {
    const values = {};
    for (const name of ["kind", "appraised_on", "organisation", "appraisers", "grade", "recommendation", "notes"]) {
      values[name] = read(form, name);
    }
    for (const [name] of spec.components) values[name] = read(form, name);
    values.site_hazard = read(form, "site_hazard", "flag");
    values.is_leaking = read(form, "is_leaking", "flag");
    const errors = required(values, ["kind", "appraised_on", "organisation", "appraisers", ...spec.components.map(([n]) => n), "grade", "recommendation"], T);
    const rules = await gradingRules(config.urls.grading);
    if (rules.refusals) Object.assign(errors, rules.refusals(values, spec.messages || {}), errors);
    if (showErrors(form, errors, T)) return;
    const warnings = rules.warnings ? rules.warnings(values, spec.messages || {}) : [];
    const fieldsToSend = {
      ...values,
      site_hazard: values.site_hazard ? "true" : "false",
      is_leaking: values.is_leaking ? "true" : "false",
      based_on: entry ? entry.fields.based_on : dwelling.based_on,
    };
    confirmAppraisal(ctx, view, form, spec, labels, fieldsToSend, photos, warnings, () =>
      ctx.save("appraisal", dwelling.id, fieldsToSend, photos, `${T.kind_appraisal} · ${household.head_name}`),
    );
  });
  return view;
}

// What will be recorded, with the grading rules' warnings, before it is saved (the page's confirmation step).
function confirmAppraisal(ctx, view, form, spec, labels, values, photos, warnings, save) {
  const { T } = ctx;
  const label = (choices, code) => (choices.find(([c]) => c === code) || [code, code])[1];
  const rows = [
    [labels.kind, label(spec.kinds, values.kind)],
    [labels.appraised_on, values.appraised_on],
    [labels.organisation, values.organisation],
    [labels.appraisers, values.appraisers],
    ...spec.components.map(([name, text]) => [text, label(spec.component_grades, values[name])]),
    [labels.site_hazard, values.site_hazard === "true" ? T.yes : T.no],
    [labels.is_leaking, values.is_leaking === "true" ? T.yes : T.no],
    [labels.grade, label(spec.grades, values.grade)],
    [labels.recommendation, label(spec.recommendations, values.recommendation)],
    [labels.notes, values.notes || "—"],
    [T.photos, fill(T.photos_n, { n: photos.length })],
  ];
  const panel = h(
    "div",
    { class: "fa-confirm", tabindex: "-1" },
    h("h2", {}, T.confirm_title),
    warnings.length
      ? h("div", { class: "alert alert-warning", role: "alert" }, h("p", { class: "fw-bold mb-1" }, T.warnings_title), h("ul", { class: "mb-0" }, warnings.map((w) => h("li", {}, w))))
      : null,
    h("dl", { class: "fa-record" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    h(
      "div",
      { class: "fa-actions" },
      h("button", { type: "button", class: "btn btn-success btn-lg", onclick: save }, icon("check2-circle"), " ", warnings.length ? T.confirm_despite : T.confirm_save),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-outline-secondary btn-lg",
          onclick: () => {
            panel.remove();
            form.hidden = false;
          },
        },
        T.back_to_form,
      ),
    ),
  );
  form.hidden = true;
  view.append(panel);
  panel.focus();
  window.scrollTo(0, 0);
}

export function revisitForm(ctx, revisit, household, entry) {
  const { T, pkg } = ctx;
  const spec = pkg.forms.revisit;
  const v = entry ? entry.fields : { visited_on: today() };
  const photos = entry ? [...entry.photos] : [];
  const asksGrade = revisit.asks_grade || revisit.campaign_kind === "base_village";
  const fields = [
    input("visited_on", T.visited_on, v.visited_on, "date"),
    radios("still_lived_in", T.still_lived_in, [["true", T.lived_yes], ["false", T.lived_no]], v.still_lived_in),
    asksGrade ? radios("assessed_grade", T.assessed_grade, spec.assessed_grades.filter(([c]) => c), v.assessed_grade) : null,
    checks("findings", T.revisit_findings, spec.findings, v.findings),
    radios("outcome", T.outcome, spec.outcomes, v.outcome),
    input("notes", T.notes, v.notes, "textarea"),
    photoPicker(ctx, "photos", T.photos, photos),
  ];
  return shell(ctx, T.revisit_title, `${household.head_name} · ${revisit.campaign}`, fields, (form) => {
    const values = {
      visited_on: read(form, "visited_on"),
      still_lived_in: read(form, "still_lived_in"),
      findings: read(form, "findings", "many"),
      outcome: read(form, "outcome"),
      notes: read(form, "notes"),
    };
    if (asksGrade) values.assessed_grade = read(form, "assessed_grade");
    const errors = required(values, ["visited_on", "still_lived_in", "outcome", ...(asksGrade ? ["assessed_grade"] : [])], T);
    if (!values.still_lived_in) errors.still_lived_in = T.say_lived_in;
    if (showErrors(form, errors, T)) return;
    values.based_on = entry ? entry.fields.based_on : revisit.based_on;
    ctx.save("revisit", revisit.id, values, photos, `${T.kind_revisit} · ${household.head_name}`);
  });
}

export function problemForm(ctx, problem, household, entry) {
  const { T } = ctx;
  const v = entry ? entry.fields : {};
  const photos = entry ? [...entry.photos] : [];
  const resolution = input("resolution", T.resolution, v.resolution, "textarea");
  const needsResolution = (to) => (problem.moves.find((m) => m.to === to) || {}).needs_resolution;
  resolution.hidden = !needsResolution(v.to);
  const moves = radios("to", T.move_to, problem.moves.map((m) => [m.to, m.label]), v.to);
  moves.addEventListener("change", () => {
    resolution.hidden = !needsResolution(moves.querySelector("input:checked")?.value);
  });
  const fields = [
    h("p", { class: "fa-record-line" }, `${problem.number} · ${problem.kind_label} · ${problem.status_label}`),
    problem.description ? h("p", { class: "fa-hint" }, problem.description) : null,
    moves,
    resolution,
    input("note", T.note, v.note, "textarea"),
    photoPicker(ctx, "evidence", T.evidence, photos),
  ];
  return shell(ctx, T.problem_title, household.head_name, fields, (form) => {
    const values = { to: read(form, "to"), note: read(form, "note"), resolution: "" };
    if (needsResolution(values.to)) values.resolution = read(form, "resolution");
    const errors = required(values, ["to", ...(needsResolution(values.to) ? ["resolution"] : [])], T);
    if (showErrors(form, errors, T)) return;
    values.based_on = entry ? entry.fields.based_on : problem.based_on;
    ctx.save("problem", problem.id, values, photos, `${T.kind_problem} · ${household.head_name} · ${problem.number}`);
  });
}

export function helperReportForm(ctx, household, entry) {
  const { T, pkg } = ctx;
  const spec = pkg.forms.helper_report;
  const v = entry ? entry.fields : {};
  const photos = entry ? [...entry.photos] : [];
  const dwellings = [["", T.no_dwelling], ...household.dwellings.map((d) => [String(d.id), d.address || d.structure_label || String(d.id)])];
  const fields = [
    checks("findings", T.helper_findings, spec.findings, v.findings),
    household.dwellings.length > 1 ? select("dwelling", T.dwelling, dwellings, v.dwelling) : null,
    input("note", T.helper_note, v.note, "textarea"),
    photoPicker(ctx, "photos", T.photos, photos),
  ];
  return shell(ctx, T.report_title, household.head_name, fields, (form) => {
    const values = { findings: read(form, "findings", "many"), note: read(form, "note") };
    if (household.dwellings.length > 1) values.dwelling = read(form, "dwelling");
    else if (household.dwellings.length === 1) values.dwelling = String(household.dwellings[0].id);
    const errors = required(values, ["note"], T);
    if (showErrors(form, errors, T)) return;
    ctx.save("helper_report", household.id, values, photos, `${T.kind_helper_report} · ${household.head_name}`);
  });
}
