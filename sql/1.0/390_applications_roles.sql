-- Who may do what with applications (roles: 190_registry_roles.sql).
-- The functions are SECURITY DEFINER: the portal submits, asks for and
-- records the fee and lists an applicant's applications without table
-- privileges, and the registry decides; the history names the session user
-- as actor.  The trust model (docs/applications.md): the portal
-- authenticates the applicant and passes the IIN/BIN; isolation is between
-- the roles, and only the admin reads the application tables.

REVOKE EXECUTE ON FUNCTION
    imei_registry.submit_application(jsonb),
    imei_registry.decide_application(bigint),
    imei_registry.request_payment(bigint),
    imei_registry.record_payment(bigint, numeric, timestamptz, text),
    imei_registry.my_applications(text),
    imei_registry.application_paid_at(bigint, numeric),
    imei_registry.application_fee_devices(bigint),
    imei_registry.application_mci(bigint, timestamptz)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    imei_registry.submit_application(jsonb),
    imei_registry.request_payment(bigint),
    imei_registry.record_payment(bigint, numeric, timestamptz, text),
    imei_registry.my_applications(text)
TO imei_registry_portal;
GRANT EXECUTE ON FUNCTION imei_registry.decide_application(bigint)
    TO imei_registry_admin;
