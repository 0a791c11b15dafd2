-- The one table of the registry's rules, as imei_registry.transition_rules()
-- shows it (src/rules.c): what the transition trigger enforces and what
-- docs/registry.md documents (test/shell/docs_rules.sh compares the two).
SELECT coalesce(from_status::text, '(new)') AS from_status, to_status, reason, conditions
FROM imei_registry.transition_rules();
-- The shipped reason codes: each leads where its rules lead and is its own base.
SELECT code, status, base FROM imei_registry.reasons WHERE shipped ORDER BY code;
-- transition_allowed: the table and its row conditions; a site's code by its base.
SELECT f AS from_status, t AS to_status, r AS reason, o AS old_reason,
       imei_registry.transition_allowed(f::imei_registry.status, t::imei_registry.status, r, o)
FROM (VALUES (NULL, 'grey', 'unverified', NULL), (NULL, 'white', 'reinstated', NULL),
             ('grey', 'white', 'application_approved', 'unverified'),
             ('black', 'white', 'application_approved', 'grey_expired'),
             ('black', 'white', 'application_approved', 'gsma_blocked'),
             ('black', 'white', 'reinstated', 'counterfeit'),
             ('white', 'black', 'no_such_code', 'lawful_import'),
             ('white', 'white', 'lawful_import', 'lawful_import'),
             ('white', NULL, 'gsma_blocked', 'lawful_import'),
             ('white', 'black', NULL, 'lawful_import')) AS x(f, t, r, o);

-- The words of an application and the fee, from src/vocabulary.c.
SELECT v AS vocabulary, imei_registry.application_vocabulary(v) AS words
FROM unnest(ARRAY['applicant_kind', 'method', 'document_type', 'never_evidence']) v;
SELECT k AS applicant_kind, imei_registry.fee_mci_per_device(k)
FROM unnest(imei_registry.application_vocabulary('applicant_kind')) k;
\set VERBOSITY terse
SELECT imei_registry.application_vocabulary('colours');
SELECT imei_registry.fee_mci_per_device('tourist');
