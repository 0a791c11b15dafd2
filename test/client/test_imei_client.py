"""A real client: psycopg reads imei values in text and binary format and
loads a CSV with COPY FROM STDIN.  Connects with the libpq environment
(PGHOST, PGPORT, PGUSER, PGDATABASE) that scripts/test sets."""

import struct
import unittest

import psycopg

IMEIS = ["352099001761481", "001013001234568", "490154203237518"]


class ImeiClientTest(unittest.TestCase):
    def setUp(self):
        self.conn = psycopg.connect(autocommit=True)
        self.conn.execute("CREATE EXTENSION IF NOT EXISTS imei_registry")
        self.conn.execute("DROP TABLE IF EXISTS client_devices")
        self.conn.execute(
            "CREATE TABLE client_devices (model text, imei imei_registry.imei PRIMARY KEY)")

    def tearDown(self):
        self.conn.execute("DROP TABLE IF EXISTS client_devices")
        self.conn.close()

    def test_text_format_is_canonical_digits(self):
        row = self.conn.execute(
            "SELECT '35-209900-176148-1'::imei_registry.imei, '001013001234568'::imei_registry.imei"
        ).fetchone()
        self.assertEqual(row, ("352099001761481", "001013001234568"))

    def test_binary_format_is_an_int8(self):
        cur = self.conn.cursor(binary=True)
        cur.execute("SELECT '001013001234568'::imei_registry.imei")
        (raw,) = cur.fetchone()
        self.assertEqual(struct.unpack("!q", bytes(raw))[0], 1013001234568)

    def test_copy_csv_from_stdin(self):
        data = "".join(f"model {i},{imei}\n" for i, imei in enumerate(IMEIS))
        with self.conn.cursor() as cur:
            with cur.copy("COPY client_devices FROM STDIN (FORMAT csv)") as copy:
                copy.write(data)
            cur.execute("SELECT imei::text FROM client_devices ORDER BY imei")
            self.assertEqual([r[0] for r in cur.fetchall()], sorted(IMEIS))

    def test_copy_with_a_typo_is_refused_with_the_line(self):
        data = "a,352099001761481\nb,352099001761482\n"
        with self.assertRaises(psycopg.errors.InvalidTextRepresentation) as ctx:
            with self.conn.cursor() as cur:
                with cur.copy("COPY client_devices FROM STDIN (FORMAT csv)") as copy:
                    copy.write(data)
        self.assertIn('"352099001761482", should be 1', str(ctx.exception))
        self.assertIn("line 2", ctx.exception.diag.context)
        count = self.conn.execute("SELECT count(*) FROM client_devices").fetchone()[0]
        self.assertEqual(count, 0)

    def test_binary_copy_round_trip(self):
        self.conn.execute(
            "INSERT INTO client_devices SELECT 'm', v::imei_registry.imei FROM unnest(%s::text[]) v",
            (IMEIS,))
        with self.conn.cursor() as cur:
            with cur.copy("COPY client_devices TO STDOUT (FORMAT binary)") as copy:
                dump = b"".join(bytes(b) for b in copy)
            cur.execute("TRUNCATE client_devices")
            with cur.copy("COPY client_devices FROM STDIN (FORMAT binary)") as copy:
                copy.write(dump)
            cur.execute("SELECT imei::text FROM client_devices ORDER BY imei")
            self.assertEqual([r[0] for r in cur.fetchall()], sorted(IMEIS))


if __name__ == "__main__":
    unittest.main()
