-- The registry's rules (src/rules.c): one compiled table of the allowed
-- changes of status (from, to, reason, conditions), keyed by the codes the
-- extension ships.  The transition trigger enforces it; every function and
-- loader that changes a status asks it, through the C functions below or,
-- in C, rules.h.  A code a site adds to reasons names a shipped code as its
-- base and takes its transitions.

-- The table itself, for DBAs and tests (docs/registry.md shows it, and
-- test/shell/docs_rules.sh checks that the two agree).  from_status NULL:
-- a new IMEI.  conditions: named checks that must all hold.
CREATE FUNCTION imei_registry.transition_rules(
    OUT from_status imei_registry.status, OUT to_status imei_registry.status,
    OUT reason text, OUT conditions text[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'transition_rules'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION imei_registry.transition_rules() IS
    'the registry''s rules: every allowed change of status (from NULL: a new IMEI), by reason, with its conditions';

-- The shipped code whose transitions a code takes: a shipped code itself,
-- a site's code its reasons.base; NULL if the code is neither.
CREATE FUNCTION imei_registry.reason_base(code text) RETURNS text
    AS 'MODULE_PATHNAME', 'reason_base'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.reason_base(text) IS
    'the shipped reason code whose transitions a code takes (itself if shipped), NULL if it is no code';

-- May a row that is from_status for old_reason (NULL, NULL: a new IMEI)
-- become to_status by reason?  What the transition trigger would say, but
-- for the conditions on the cause of the change (the note of reinstated),
-- which only the trigger has.
CREATE FUNCTION imei_registry.transition_allowed(
    from_status imei_registry.status, to_status imei_registry.status,
    reason text, old_reason text DEFAULT NULL)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'transition_allowed'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION imei_registry.transition_allowed(imei_registry.status, imei_registry.status, text, text) IS
    'may a row that is from_status for old_reason (NULL: a new IMEI) become to_status by reason? (the note is checked by the trigger)';

-- The hold of a pending application (src/rules.c, the rules' not_held):
-- a submitted, undecided application that lists the IMEI and was submitted
-- by grey_last_day holds it through the local date of submission plus
-- imei_registry.application_hold_days.  The expiry leaves held rows alone.
CREATE FUNCTION imei_registry.application_holds(imei imei_registry.imei, grey_last_day date)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'application_holds'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION imei_registry.application_holds(imei_registry.imei, date) IS
    'does a pending application hold this grey IMEI (submitted by grey_last_day, for imei_registry.application_hold_days)?';

-- Codes are checked when they are added: a shipped code must be a code of
-- the rules, a site's code must have a shipped base leading to its status
-- (status may be omitted: it is the base's).  Only the description of a
-- code may change, and no code is removed.
CREATE FUNCTION imei_registry.reasons_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'reasons_guard' LANGUAGE C;
REVOKE EXECUTE ON FUNCTION imei_registry.reasons_guard() FROM PUBLIC;
