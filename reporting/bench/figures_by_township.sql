-- The dashboard's figures per township for the whole province, as one hand-written statement: the benchmark's
-- baseline for /dashboard/ and the consolidated report (reporting/bench/__init__.py checks that it yields the same
-- numbers as reporting.selectors.area_figures). Parameters: %(day)s, %(first)s (first of the month), %(year_start)s,
-- %(overdue_cutoff)s (last overdue registration date), %(quiet_since)s, %(unpaid_since)s.
WITH
secured AS (
    SELECT DISTINCT household_id FROM inspections_securedhousing
    WHERE since <= %(day)s AND (until IS NULL OR until >= %(day)s)
),
households AS (
    SELECT v.township_id, h.id, h.registered_on, h.home_status,
           CASE WHEN s.household_id IS NOT NULL THEN 'secured' ELSE h.home_status END AS status
    FROM households_household h
    JOIN households_village v ON v.id = h.village_id
    LEFT JOIN secured s ON s.household_id = h.id
    WHERE h.status = 'active'
),
household_figures AS (
    SELECT township_id,
           count(*) FILTER (WHERE status = 'appraised_safe') AS status_appraised_safe,
           count(*) FILTER (WHERE status = 'renovated_safe') AS status_renovated_safe,
           count(*) FILTER (WHERE status = 'secured') AS status_secured,
           count(*) FILTER (WHERE status = 'dangerous') AS status_dangerous,
           count(*) FILTER (WHERE status = 'unappraised') AS status_unappraised,
           count(*) FILTER (WHERE status = 'unappraised' AND registered_on <= %(overdue_cutoff)s) AS appraisal_overdue,
           count(*) FILTER (WHERE CASE WHEN status = 'secured' THEN appraised_house ELSE home_status <> 'unappraised' END)
               AS appraised,
           count(*) FILTER (WHERE status = 'secured' AND NOT appraised_house) AS secured_unappraised
    FROM (SELECT hh.*, EXISTS (SELECT 1 FROM households_dwelling d
                               WHERE d.household_id = hh.id AND d.current_grade IS NOT NULL) AS appraised_house
          FROM households hh) counted
    GROUP BY township_id
),
category_figures AS (
    SELECT township_id, jsonb_object_agg('category_' || code, n) AS categories
    FROM (SELECT hh.township_id, cat.code, count(*) AS n
          FROM households hh
          JOIN households_household_categories hc ON hc.household_id = hh.id
          JOIN households_householdcategory cat ON cat.id = hc.householdcategory_id
          GROUP BY 1, 2) per_code
    GROUP BY township_id
),
open_case_dwellings AS (
    SELECT DISTINCT dwelling_id FROM rectification_renovationcase
    WHERE status NOT IN ('archived', 'rejected', 'withdrawn')
),
dwelling_figures AS (
    SELECT hh.township_id,
           count(*) FILTER (WHERE d.current_grade = 'A') AS "grade_A",
           count(*) FILTER (WHERE d.current_grade = 'B') AS "grade_B",
           count(*) FILTER (WHERE d.current_grade = 'C') AS "grade_C",
           count(*) FILTER (WHERE d.current_grade = 'D') AS "grade_D",
           count(*) FILTER (WHERE d.current_grade IN ('C', 'D') AND o.dwelling_id IS NULL) AS dangerous_without_case,
           count(*) FILTER (WHERE d.current_grade IN ('C', 'D') AND o.dwelling_id IS NULL
                            AND NOT EXISTS (SELECT 1 FROM inspections_appraisal a
                                            WHERE a.dwelling_id = d.id AND a.appraised_on > %(action_cutoff)s)
                            AND d.household_id NOT IN (SELECT household_id FROM secured)) AS dangerous_late
    FROM households_dwelling d
    JOIN households hh ON hh.id = d.household_id
    LEFT JOIN open_case_dwellings o ON o.dwelling_id = d.id
    WHERE d.is_occupied
    GROUP BY hh.township_id
),
case_figures AS (
    SELECT township_id,
           jsonb_object_agg('step_' || status, n) FILTER (WHERE status NOT IN ('rejected', 'withdrawn')) AS steps,
           sum(n) FILTER (WHERE status NOT IN ('archived', 'rejected', 'withdrawn')) AS cases_open,
           sum(completed) AS cases_completed_month, sum(stalled) AS cases_stalled
    FROM (SELECT township_id, status, count(*) AS n,
                 count(*) FILTER (WHERE accepted_on BETWEEN %(first)s AND %(day)s) AS completed,
                 count(*) FILTER (WHERE status NOT IN ('archived', 'rejected', 'withdrawn')
                                  AND (last_activity_on < %(quiet_since)s
                                       OR (status = 'accepted' AND accepted_on < %(unpaid_since)s))) AS stalled
          FROM rectification_renovationcase GROUP BY township_id, status) per_status
    GROUP BY township_id
),
payment_figures AS (
    SELECT c.township_id,
           coalesce(sum(p.amount) FILTER (WHERE p.paid_on BETWEEN %(first)s AND %(day)s), 0) AS subsidy_paid_month,
           coalesce(sum(p.amount) FILTER (WHERE p.paid_on BETWEEN %(year_start)s AND %(day)s), 0) AS subsidy_paid_year
    FROM rectification_subsidypayment p JOIN rectification_renovationcase c ON c.id = p.case_id
    GROUP BY c.township_id
),
newest_home_appraisal AS (
    SELECT DISTINCT ON (d.household_id) d.household_id, a.id
    FROM inspections_appraisal a JOIN households_dwelling d ON d.id = a.dwelling_id
    WHERE d.is_occupied AND d.household_id IN (SELECT household_id FROM inspections_placard)
    ORDER BY d.household_id, a.appraised_on DESC, a.id DESC
),
newest_secured AS (
    SELECT DISTINCT ON (household_id) household_id, id FROM inspections_securedhousing
    WHERE since <= %(day)s AND (until IS NULL OR until >= %(day)s)
    ORDER BY household_id, since DESC, id DESC
),
placard_figures AS (
    SELECT hh.township_id, count(DISTINCT p.household_id) AS placard_installed
    FROM inspections_placard p
    JOIN households hh ON hh.id = p.household_id AND hh.status = p.status
    LEFT JOIN newest_home_appraisal na ON na.household_id = p.household_id
    LEFT JOIN newest_secured ns ON ns.household_id = p.household_id
    WHERE p.installed_on IS NOT NULL AND p.status IN ('appraised_safe', 'renovated_safe', 'secured')
      AND CASE WHEN hh.status = 'secured' THEN ns.id = p.secured_housing_id ELSE na.id = p.appraisal_id END
    GROUP BY hh.township_id
),
revisit_figures AS (
    SELECT v.township_id,
           count(*) FILTER (WHERE r.status = 'pending') AS revisits_pending,
           count(*) FILTER (WHERE r.status = 'pending' AND r.due_on < %(day)s) AS revisits_overdue,
           count(*) FILTER (WHERE r.status = 'done') AS revisits_done
    FROM inspections_revisit r
    JOIN households_dwelling d ON d.id = r.dwelling_id
    JOIN households_household h ON h.id = d.household_id
    JOIN households_village v ON v.id = h.village_id
    GROUP BY v.township_id
),
problem_figures AS (
    SELECT township_id,
           count(*) FILTER (WHERE status IN ('open', 'in_progress')) AS problems_open,
           count(*) FILTER (WHERE status IN ('open', 'in_progress') AND deadline < %(day)s) AS problems_overdue,
           count(*) FILTER (WHERE status IN ('resolved', 'verified')) AS problems_closed
    FROM rectification_problem GROUP BY township_id
),
complaint_figures AS (
    SELECT township_id,
           count(*) FILTER (WHERE (received_at AT TIME ZONE 'Asia/Shanghai')::date
                            BETWEEN %(first)s AND %(day)s) AS complaints_received,
           count(*) FILTER (WHERE status = 'closed' AND (closed_at AT TIME ZONE 'Asia/Shanghai')::date
                            BETWEEN %(first)s AND %(day)s) AS complaints_closed,
           count(*) FILTER (WHERE status IN ('received', 'accepted', 'assigned', 'handling', 'replied'))
               AS complaints_open,
           count(*) FILTER (WHERE (status = 'received' AND acceptance_due < %(day)s)
                            OR (status IN ('accepted', 'assigned', 'handling') AND handling_due < %(day)s))
               AS complaints_overdue
    FROM rectification_complaint WHERE township_id IS NOT NULL GROUP BY township_id
)
SELECT t.id AS township_id,
       to_jsonb(hf) - 'township_id' AS households, coalesce(cf.categories, '{}') AS categories,
       to_jsonb(df) - 'township_id' AS dwellings, coalesce(k.steps, '{}') AS steps,
       jsonb_build_object('cases_open', coalesce(k.cases_open, 0),
                          'cases_completed_month', coalesce(k.cases_completed_month, 0),
                          'cases_stalled', coalesce(k.cases_stalled, 0)) AS cases,
       to_jsonb(pf) - 'township_id' AS payments, to_jsonb(pl) - 'township_id' AS placards,
       to_jsonb(rf) - 'township_id' AS revisits, to_jsonb(pr) - 'township_id' AS problems,
       to_jsonb(co) - 'township_id' AS complaints
FROM households_township t
LEFT JOIN household_figures hf ON hf.township_id = t.id
LEFT JOIN category_figures cf ON cf.township_id = t.id
LEFT JOIN dwelling_figures df ON df.township_id = t.id
LEFT JOIN case_figures k ON k.township_id = t.id
LEFT JOIN payment_figures pf ON pf.township_id = t.id
LEFT JOIN placard_figures pl ON pl.township_id = t.id
LEFT JOIN revisit_figures rf ON rf.township_id = t.id
LEFT JOIN problem_figures pr ON pr.township_id = t.id
LEFT JOIN complaint_figures co ON co.township_id = t.id
ORDER BY t.code
