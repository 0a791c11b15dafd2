-- IMSI and MSISDN values (src/subscriber.c), imei_registry.home_mccs, and
-- report_connection() with its subscriber: the messages.  IMEIs of TAC
-- 35991801 belong to this file.
SET client_min_messages = warning;
SET timezone = 'UTC';
SET search_path = imei_registry, public;

-- IMSI: 6 to 15 digits, MCC first (2 to 9)
SELECT parse_imsi('401011234567890'), parse_imsi('250991'), parse_imsi(' 310150123456789 ');
SELECT parse_imsi('40101');
SELECT parse_imsi('4010112345678901');
SELECT parse_imsi('40101-123456789');
SELECT parse_imsi('001011234567890');
SELECT parse_imsi('');
-- MSISDN: E.164, 7 to 15 digits, "+" optional, stored without it
SELECT parse_msisdn('77011234567'), parse_msisdn('+77011234567'), parse_msisdn('6831234');
SELECT parse_msisdn('+7 701 123 45 67');
SELECT parse_msisdn('007011234567');
SELECT parse_msisdn('770112');
SELECT parse_msisdn('7701123456789012');
SELECT parse_msisdn('+');

-- home_mccs: superuser-set, a list of 3-digit MCCs
SELECT imsi_is_home(401011234567890) AS kz, imsi_is_home(250991234567890) AS ru;
SHOW imei_registry.home_mccs;
SET imei_registry.home_mccs = '401, 250';
SELECT imsi_is_home(250991234567890) AS ru_now_home;
SET imei_registry.home_mccs = '401,25';
SET imei_registry.home_mccs = '';
SET imei_registry.home_mccs = '401;250';
SET imei_registry.home_mccs = '001';
RESET imei_registry.home_mccs;
CREATE ROLE regress_sv_user;
SET ROLE regress_sv_user;
SET imei_registry.home_mccs = '250';
RESET ROLE;
DROP ROLE regress_sv_user;

-- report_connection: NULLs and the subscriber's errors
\set SHOW_CONTEXT never
INSERT INTO operators VALUES ('sv_op', 'Values test operator');
SELECT report_connection(NULL::imei, 'sv_op');
SELECT report_connection('359918010000016', NULL);
SELECT report_connection('359918010000016', 'sv_op', NULL);
SELECT report_connection('359918010000016', 'sv_op', now(), NULL, '77011234567');
SELECT report_connection('359918010000016', 'sv_op', now(), '40101', NULL);
SELECT report_connection('359918010000016', 'sv_op', now(), '401011234567890', '8 701 123');
-- nothing of those was written
SELECT count(*) FROM registry WHERE imei = '359918010000016';
SELECT count(*) FROM sightings WHERE imei = '359918010000016';
-- untyped literals: imei preferred, 3, 4 and 5 arguments
SELECT report_connection('359918010000016', 'sv_op', '2026-11-02 10:00+05');
SELECT report_connection('359918010000024', 'sv_op', '2026-11-02 10:00+05', '250991234567890');
SELECT report_connection('359918010000032', 'sv_op', '2026-11-02 10:00+05', '401011234567890', '+77011234567');
SELECT report_connection('3599180100000401'::imeisv, 'sv_op', '2026-11-02 10:00+05', '401011234567891');
SELECT report_connection(imei => '359918010000057', operator => 'sv_op',
                         connected_at => '2026-11-02 10:00+05', imsi => '401011234567892');
SELECT imei, imsi, msisdn, month, days, operator FROM sightings
 WHERE imei_tac(imei) = '35991801' ORDER BY imei;
SELECT imei, status, first_operator FROM registry WHERE imei_tac(imei) = '35991801' ORDER BY imei;
