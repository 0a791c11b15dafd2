"""COPY FROM STDIN into the imei_registry.upload_* targets from a real client.

Run with /usr/bin/python3 (Debian's python3-psycopg); connects with the
libpq environment (PGHOST, PGPORT, PGUSER) and works in its own database.
"""
import os
import unittest

import psycopg
from psycopg import sql

DB = "imei_bulk_client"
DB2 = "imei_bulk_client_session"


def luhn(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


class BulkCopyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
        cls.conn = psycopg.connect(dbname=DB, autocommit=True)
        cls.conn.execute("CREATE EXTENSION imei_registry")
        cls.conn.execute("SELECT imei_registry.create_registry()")
        cls.conn.execute("INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell')")
        cls.conn.execute("SET timezone = 'UTC'")

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB)))

    def copy(self, target, text):
        with self.conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY imei_registry.{} FROM STDIN (FORMAT csv, HEADER true)")
                          .format(sql.Identifier(target))) as copy:
                copy.write(text.encode())
        return self.conn.execute(
            "SELECT import_id, rows_read, rows_loaded, rows_rejected, rows_already_present"
            " FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1").fetchone()

    def rejects(self, import_id):
        return self.conn.execute(
            "SELECT line_number, reason FROM imei_registry.import_rejects"
            " WHERE import_id = %s ORDER BY line_number", (import_id,)).fetchall()

    def test_connections_from_stdin(self):
        # more rows than one batch (1000): the repeat of line 2 comes in a
        # later batch than the row it repeats; a repeat is a report like any,
        # and both repeats are earlier (00:00 UTC is 05:00 in Almaty), so
        # they move the first connection back (loaded)
        good = [luhn("3599005%07d" % i) for i in range(1, 1201)]
        lines = ["operator,imei,connected_at"]
        lines += ["kcell,%s,2026-03-01 09:00+05" % imei for imei in good[:1000]]
        lines.append("kcell,%s,2026-03-01 00:00+00" % good[0])       # line 1002: earlier, first of batch 2
        lines += ["kcell,%s,2026-03-01 09:00+05" % imei for imei in good[1000:]]
        lines.append("tele2,%s,2026-03-01" % luhn("35990050999999"))  # 1203: unknown operator
        lines.append("kcell,35990050,2026-03-01")                     # 1204: wrong length
        lines.append("kcell,%s,2026-03-01 00:00+00" % good[1100])    # 1205: earlier, same batch
        text = "\n".join(lines) + "\n"

        import_id, read, loaded, rejected, present = self.copy("upload_connections", text)
        self.assertEqual((read, loaded, rejected, present), (1204, 1202, 2, 0))
        self.assertEqual(self.rejects(import_id),
                         [(1203, "unknown_operator"), (1204, "wrong_length")])
        grey = self.conn.execute(
            "SELECT count(*) FROM imei_registry.registry"
            " WHERE imei_registry.imei_tac(imei) = '35990050' AND status = 'grey'"
            " AND import_id = %s", (import_id,)).fetchone()[0]
        self.assertEqual(grey, 1200)

        # the same report again: everything already present
        import_id, read, loaded, rejected, present = self.copy("upload_connections", text)
        self.assertEqual((read, loaded, rejected, present), (1204, 1202, 2, 1202))
        self.assertEqual(self.rejects(import_id),
                         [(1203, "unknown_operator"), (1204, "wrong_length")])

    def test_atomic_mode_aborts_the_copy(self):
        text = ("operator,imei,connected_at\n"
                "kcell,%s,2026-03-02\n"
                "kcell,%s,2026-03-02\n" % (luhn("35990051000001"), "359900510000029x"))
        before = self.conn.execute("SELECT count(*) FROM imei_registry.imports").fetchone()[0]
        self.conn.execute("SET imei_registry.import_atomic = on")
        try:
            with self.assertRaises(psycopg.errors.DataException) as cm:
                self.copy("upload_connections", text)
        finally:
            self.conn.execute("RESET imei_registry.import_atomic")
        self.assertIn("1 of 2 rows", str(cm.exception))
        self.assertIn("line 3: non_digits", cm.exception.diag.message_detail)
        after = self.conn.execute("SELECT count(*) FROM imei_registry.imports").fetchone()[0]
        self.assertEqual(before, after)
        loaded = self.conn.execute(
            "SELECT count(*) FROM imei_registry.registry"
            " WHERE imei_registry.imei_tac(imei) = '35990051'").fetchone()[0]
        self.assertEqual(loaded, 0)

    def test_devices_across_batches(self):
        app = self.conn.execute(
            "INSERT INTO imei_registry.applications (applicant_kind, applicant_id, method, mci_tenge)"
            " VALUES ('legal_entity', '990340000027', 'commercial_import', 3932) RETURNING id"
        ).fetchone()[0]
        lines = ["application_id,model,imei_1,imei_2,imei_3,imei_4"]
        devices = ["%d,Phone,%s,%s,," % (app, luhn("3599005300%04d" % (2 * i)),
                                         luhn("3599005300%04d" % (2 * i + 1)))
                   for i in range(1100)]
        # line 1002, first of the second batch: its second IMEI is the second
        # IMEI of line 2, a batch ago
        lines += devices[:1000]
        lines.append("%d,Phone,%s,%s,," % (app, luhn("35990053999999"), luhn("35990053000001")))
        lines += devices[1000:]
        text = "\n".join(lines) + "\n"
        import_id, read, loaded, rejected, present = self.copy("upload_devices", text)
        self.assertEqual((read, loaded, rejected, present), (1101, 1100, 1, 0))
        self.assertEqual(self.rejects(import_id), [(1002, "duplicate_in_file")])
        devices, imeis = self.conn.execute(
            "SELECT count(DISTINCT device_ord), count(*) FROM imei_registry.application_imeis"
            " WHERE application_id = %s", (app,)).fetchone()
        self.assertEqual((devices, imeis), (1100, 2200))

        import_id, read, loaded, rejected, present = self.copy("upload_devices", text)
        self.assertEqual((read, loaded, rejected, present), (1101, 1100, 1, 1100))

    def test_blocklist_across_batches(self):
        imeis = [luhn("3599005500%04d" % i) for i in range(1100)]
        # known before: white (goes black) and black (already present)
        self.conn.execute("INSERT INTO imei_registry.registry (imei, status, reason, first_seen_at)"
                          " VALUES (%s, 'white', 'grandfathered', '2025-03-01 12:00+05'),"
                          " (%s, 'black', 'counterfeit', NULL)",
                          (imeis[5], imeis[6]))
        lines = ["imei,listed_on,reason"] + ["%s,2026-03-05,stolen" % i for i in imeis[:1000]]
        lines.append("%s,2026-03-06,lost" % imeis[0])   # line 1002: a batch after line 2
        lines += ["%s,2026-03-05,stolen" % i for i in imeis[1000:]]
        text = "\n".join(lines) + "\n"
        import_id, read, loaded, rejected, present = self.copy("upload_blocklist", text)
        self.assertEqual((read, loaded, rejected, present), (1101, 1100, 1, 1))
        self.assertEqual(self.rejects(import_id), [(1002, "duplicate_in_file")])
        rows = self.conn.execute(
            "SELECT status::text, reason, count(*) FROM imei_registry.registry"
            " WHERE imei_registry.imei_tac(imei) = '35990055' GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        self.assertEqual(rows, [("black", "counterfeit", 1), ("black", "gsma_blocked", 1099)])
        history = self.conn.execute(
            "SELECT count(*) FROM imei_registry.history"
            " WHERE import_id = %s AND to_status = 'black'", (import_id,)).fetchone()[0]
        self.assertEqual(history, 1099)

        import_id, read, loaded, rejected, present = self.copy("upload_blocklist", text)
        self.assertEqual((read, loaded, rejected, present), (1101, 1100, 1, 1100))

    def test_blocklist_leading_zero(self):
        text = ("imei,listed_on,reason\n"
                "%s,2026-03-03,stolen\n"
                "%s,2026-03-03,stolen\n" % (luhn("35990052000001"), luhn("09990052000001")[1:]))
        import_id, read, loaded, rejected, present = self.copy("upload_blocklist", text)
        self.assertEqual((read, loaded, rejected, present), (2, 1, 1, 0))
        self.assertEqual(self.rejects(import_id), [(3, "leading_zero_lost")])


class SessionTest(unittest.TestCase):
    def test_extension_recreated_in_session(self):
        # the session's saved plans must follow a new imei type
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB2)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB2)))
        with psycopg.connect(dbname=DB2, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION imei_registry")
            conn.execute("SELECT imei_registry.create_registry()")
            text = "tac,brand,model,device_type,sim_slots\n35990054,Acme,Phone,,1\n"
            for _ in range(2):
                with conn.cursor() as cur:
                    with cur.copy("COPY imei_registry.upload_tac FROM STDIN (FORMAT csv, HEADER true)") as copy:
                        copy.write(text.encode())
                conn.execute("DROP EXTENSION imei_registry CASCADE")
                conn.execute("CREATE EXTENSION imei_registry")
                conn.execute("SELECT imei_registry.create_registry()")
            conn.execute("INSERT INTO imei_registry.operators VALUES ('kcell', 'Kcell')")
            with conn.cursor() as cur:
                with cur.copy("COPY imei_registry.upload_connections FROM STDIN (FORMAT csv, HEADER true)") as copy:
                    copy.write(("operator,imei,connected_at\nkcell,%s,2026-03-04\n"
                                % luhn("35990054000001")).encode())
            loaded = conn.execute("SELECT rows_loaded FROM imei_registry.imports"
                                  " ORDER BY import_id DESC LIMIT 1").fetchone()[0]
            self.assertEqual(loaded, 1)
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(DB2)))


if __name__ == "__main__":
    unittest.main()
