-- The late items of the consolidated report's six first kinds (its 逾期清单 sheet), extracted raw: the report
-- benchmark's baseline together with figures_by_township.sql and issue 24's three kinds (by their own SQL). Parameters as there, plus %(lead_since)s.
SELECT 'appraisal', v.township_id, h.head_name || ' · ' || v.name, h.registered_on + %(deadline_months)s * interval '1 month'
FROM households_household h JOIN households_village v ON v.id = h.village_id
WHERE h.status = 'active' AND h.home_status = 'unappraised' AND h.registered_on <= %(overdue_cutoff)s
  AND h.id NOT IN (SELECT household_id FROM inspections_securedhousing
                   WHERE since <= %(day)s AND (until IS NULL OR until >= %(day)s))
UNION ALL
SELECT 'revisit', v.township_id, h.head_name || ' · ' || v.name || ' · ' || d.address, r.due_on
FROM inspections_revisit r JOIN households_dwelling d ON d.id = r.dwelling_id
JOIN households_household h ON h.id = d.household_id JOIN households_village v ON v.id = h.village_id
WHERE r.status = 'pending' AND r.due_on < %(day)s
UNION ALL
SELECT 'problem', p.township_id, p.kind || ' · ' || coalesce(h.head_name, t.name), p.deadline
FROM rectification_problem p JOIN households_township t ON t.id = p.township_id
LEFT JOIN households_household h ON h.id = p.household_id
WHERE p.status IN ('open', 'in_progress') AND p.deadline < %(day)s
UNION ALL
SELECT 'case', c.township_id, c.number || ' ' || h.head_name || ' · ' || c.status,
       CASE WHEN c.status = 'accepted' AND c.accepted_on IS NOT NULL THEN c.accepted_on + %(payment_days)s
            ELSE c.last_activity_on + %(stalled_days)s END
FROM rectification_renovationcase c JOIN households_household h ON h.id = c.household_id
WHERE c.status NOT IN ('archived', 'rejected', 'withdrawn')
  AND (c.last_activity_on < %(quiet_since)s OR (c.status = 'accepted' AND c.accepted_on < %(unpaid_since)s))
UNION ALL
SELECT 'complaint', c.township_id, c.ticket || ' · ' || c.category,
       CASE WHEN c.status = 'received' THEN c.acceptance_due ELSE c.handling_due END
FROM rectification_complaint c
WHERE (c.status = 'received' AND c.acceptance_due < %(day)s)
   OR (c.status IN ('accepted', 'assigned', 'handling') AND c.handling_due < %(day)s)
UNION ALL
SELECT 'lead', u.township_id, u.name || ' · ' || l.subject, l.sent_on + %(lead_days)s
FROM rectification_leadtransfer l JOIN households_unit u ON u.id = l.from_unit_id
WHERE l.direction = 'outgoing' AND l.receipt_on IS NULL AND l.sent_on < %(lead_since)s
