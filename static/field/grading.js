// The grading rules of an appraisal on the phone: a port of inspections/grading.py, which is the source of truth
// (the guideline's words and the reasoning behind each rule are there, not here). Same rules, same order, same
// results: fieldwork/tests/test_grading_js.py compares the two on every combination that matters. Change a rule
// there first, then here.
//
// `appraisal` is a plain object with the model's field names: the six components ("a" … "d", "n" when the house has
// none), grade ("A" … "D"), recommendation ("none", "repair", "rebuild", "relocate") and site_hazard (boolean).
// `messages` is the package's forms.appraisal.messages (grading.client_messages()): the texts in the worker's
// language, with their %(grade)s and %(worst)s left in.

// Appraisal.COMPONENTS (inspections/models.py), in the order of the national form.
export const COMPONENTS = [
  "foundation",
  "load_bearing_walls",
  "timber_frame",
  "roof_truss",
  "concrete_frame",
  "floor_roof_slab",
];

const COMPONENT_ORDER = "abcd";
const GRADE_ORDER = "ABCD";
const DANGEROUS = ["C", "D"];

// Python's `value in "abcd"` on a string: a substring test, so a blank value ("" while the form is being filled)
// counts as in, exactly as on the server.
function within(order, value) {
  return typeof value === "string" && order.includes(value);
}

// Python's `text % {"grade": …}`: fills %(name)s and turns %% into %.
function fill(text, values) {
  return text.replace(/%(?:\((\w+)\)s|%)/g, (whole, name) =>
    name === undefined ? "%" : name in values ? String(values[name]) : whole,
  );
}

// grading._text
function text(messages, key, values) {
  const message = messages[key];
  return values ? fill(message, values) : message;
}

// grading._graded: the component grades a-d of the components the house has ("n" left out).
function graded(appraisal) {
  return COMPONENTS.map((name) => appraisal[name]).filter((grade) => within(COMPONENT_ORDER, grade));
}

function only(grades, value) {
  // Python's `set(grades) == {value}`
  return grades.length > 0 && grades.every((grade) => grade === value);
}

// grading.refusals: {field name: message}, empty when none.
export function refusals(appraisal, messages) {
  const errors = {};
  const grades = graded(appraisal);
  const grade = appraisal.grade;
  if (within(GRADE_ORDER, grade)) {
    if (grades.includes("d") && !DANGEROUS.includes(grade)) {
      errors.grade = text(messages, "grade_d_component");
    } else if (only(grades, "d") && grade === "C") {
      errors.grade = text(messages, "grade_all_d");
    } else if (appraisal.foundation === "d" && grade === "C") {
      errors.grade = text(messages, "grade_foundation_d");
    } else if (grades.includes("c") && grade === "A") {
      errors.grade = text(messages, "grade_c_component_a");
    }
  }
  if (DANGEROUS.includes(grade) && appraisal.recommendation === "none") {
    errors.recommendation = text(messages, "recommendation_needed");
  } else if (grade === "A" && appraisal.recommendation === "rebuild") {
    errors.recommendation = text(messages, "recommendation_a_rebuild");
  }
  return errors;
}

// grading.warnings: [message, …], empty when none.
export function warnings(appraisal, messages) {
  const found = [];
  const grades = graded(appraisal);
  const grade = appraisal.grade;
  if (grades.length > 0 && within(GRADE_ORDER, grade)) {
    // Python's max(): the first of the worst when several tie.
    let worst = grades[0];
    for (const each of grades) {
      if (COMPONENT_ORDER.indexOf(each) > COMPONENT_ORDER.indexOf(worst)) worst = each;
    }
    const siteExplains = grade === "D" && Boolean(appraisal.site_hazard);
    if (GRADE_ORDER.indexOf(grade) - COMPONENT_ORDER.indexOf(worst) >= 2 && !siteExplains) {
      if (only(grades, "a")) {
        found.push(text(messages, "warn_all_a", { grade }));
      } else {
        found.push(text(messages, "warn_worst", { worst, grade }));
      }
    }
  }
  if (grade === "B" && grades.includes("c")) {
    found.push(text(messages, "warn_b_with_c"));
  }
  if (grade === "A" && appraisal.recommendation === "relocate") {
    found.push(text(messages, "warn_a_relocate"));
  }
  if (grade === "B" && appraisal.recommendation === "rebuild") {
    found.push(text(messages, "warn_b_rebuild"));
  }
  return found;
}
