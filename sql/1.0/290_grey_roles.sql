-- Who may run the grey-period expiry (roles: 190_registry_roles.sql).  The
-- registry's admin runs it: it writes the registry through its triggers, as
-- direct writes of the admin do.

REVOKE ALL ON PROCEDURE imei_registry.expire_grey_period(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION imei_registry.schedule_grey_expiry(text) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE imei_registry.expire_grey_period(integer) TO imei_registry_admin;
GRANT EXECUTE ON FUNCTION imei_registry.schedule_grey_expiry(text) TO imei_registry_admin;
