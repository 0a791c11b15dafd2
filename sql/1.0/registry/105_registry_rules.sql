-- (made by create_registry(); the rest: sql/1.0/105_registry_rules.sql)
CREATE TRIGGER reasons_guard
    BEFORE INSERT OR UPDATE OR DELETE ON imei_registry.reasons
    FOR EACH ROW EXECUTE FUNCTION imei_registry.reasons_guard();
COMMENT ON TRIGGER reasons_guard ON imei_registry.reasons IS
    'a site''s code needs a shipped base leading to its status; codes never change or go';
-- ALWAYS: also in replica mode, where CREATE EXTENSION runs in a restore
-- (docs/registry.md) and the rows of a site's codes are loaded.
ALTER TABLE imei_registry.reasons ENABLE ALWAYS TRIGGER reasons_guard;

-- The shipped codes: their status and base come from the rules.
INSERT INTO imei_registry.reasons (code, description, shipped) VALUES
    ('unverified',           'seen in a network without proof of lawful import', true),
    ('lawful_import',        'registered by its importer as officially imported', true),
    ('grandfathered',        'in the networks before the rules began (24-25 March 2025)', true),
    ('application_approved', 'lawful import proven by an approved application', true),
    ('grey_expired',         'grey period ended without an approved application', true),
    ('gsma_blocked',         'matches the GSMA block list', true),
    ('counterfeit',          'found counterfeit or altered', true),
    ('replaced',             'old IMEI of a board replacement by a service centre', true),
    ('reinstated',           'explicit registry decision with a recorded reason', true),
    ('earlier_connection',   'history only: a report of an earlier connection moved the grey period', true);
