import java.io.StringReader;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * JDBC (Debian's pgjdbc) against imei_registry: imei as text and in binary
 * (an int8 on the wire), a prepared check_imei, report_connection, an
 * application, and CopyManager into upload_connections.  Connects with the
 * libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE) that scripts/test
 * sets.  Plain Java, no test framework: it ends with "N passed, N failed".
 */
public final class ImeiJdbcTest {
    private static final String OPERATOR = "kcell";
    private static Connection conn;

    interface Check {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        conn = connect(new Properties());
        fixtures(conn);

        List<String> failed = new ArrayList<>();
        int passed = 0;
        Object[][] tests = {
            {"imei in text format: the 15 digits, leading zero kept", (Check) ImeiJdbcTest::textFormat},
            {"imei in binary format: an int8 on the wire", (Check) ImeiJdbcTest::binaryFormat},
            {"a typo is refused with SQLSTATE 22P02", (Check) ImeiJdbcTest::typoRefused},
            {"prepared check_imei, report_connection turns an unknown IMEI grey", (Check) ImeiJdbcTest::checkAndReport},
            {"an application submitted and decided: its IMEIs turn white", (Check) ImeiJdbcTest::application},
            {"a forbidden status change fails with SQLSTATE IR001", (Check) ImeiJdbcTest::forbidden},
            {"CopyManager into upload_connections: counts and rejects", (Check) ImeiJdbcTest::copyIn},
        };
        for (Object[] t : tests) {
            String name = (String) t[0];
            try {
                ((Check) t[1]).run();
                passed++;
                System.out.println("ok - " + name);
            } catch (Throwable e) {
                failed.add(name);
                System.out.println("not ok - " + name);
                e.printStackTrace(System.out);
            }
        }
        conn.close();
        System.out.println(passed + " passed, " + failed.size() + " failed");
        System.exit(failed.isEmpty() ? 0 : 1);
    }

    /** A connection from the libpq environment; a PGHOST directory means its Unix socket. */
    static Connection connect(Properties props) throws SQLException {
        String host = env("PGHOST", "localhost");
        String port = env("PGPORT", "5432");
        props.setProperty("user", env("PGUSER", System.getProperty("user.name")));
        if (host.startsWith("/")) {
            props.setProperty("socketFactory", UnixSocketFactory.class.getName());
            props.setProperty("socketFactoryArg", host + "/.s.PGSQL." + port);
            host = "localhost";
        }
        return DriverManager.getConnection(
            "jdbc:postgresql://" + host + ":" + port + "/" + env("PGDATABASE", "postgres"), props);
    }

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    /**
     * What a login would be given: the extension, the schema on the search
     * path (for the type's operators), an operator, a TAC.  The tests run as
     * the cluster's superuser; a deployment grants the imei_registry_* roles.
     */
    static void fixtures(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE EXTENSION IF NOT EXISTS imei_registry");
            // the data tables, once per database (imei_registry.create_registry())
            st.execute("SELECT imei_registry.create_registry()"
                       + " WHERE pg_catalog.to_regclass('imei_registry.registry') IS NULL");
            st.execute("SET search_path = \"$user\", public, imei_registry");
            st.execute("INSERT INTO imei_registry.operators VALUES ('" + OPERATOR + "', 'Kcell')"
                       + " ON CONFLICT DO NOTHING");
            st.execute("INSERT INTO imei_registry.tac (tac, brand, model, device_type, sim_slots)"
                       + " VALUES ('86300101', 'Acme', 'Duo', 'smartphone', 2) ON CONFLICT (tac) DO NOTHING");
        }
    }

    /** The n-th IMEI of a TAC: 14-digit body and its Luhn check digit. */
    static String imei(String tac, int n) {
        String body = tac + String.format("%06d", n);
        int sum = 0;
        for (int i = 0; i < 14; i++) {
            int d = body.charAt(13 - i) - '0';
            if (i % 2 == 0) {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
        }
        return body + (10 - sum % 10) % 10;
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    static void equal(Object expected, Object got) {
        if (expected == null ? got != null : !expected.equals(got))
            throw new AssertionError("expected <" + expected + "> but got <" + got + ">");
    }

    static SQLException refused(Connection c, String sql, String... params) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setString(i + 1, params[i]);
            ps.execute();
        } catch (SQLException e) {
            return e;
        }
        throw new AssertionError("not refused: " + sql);
    }

    static String one(String sql, String... params) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setString(i + 1, params[i]);
            try (ResultSet rs = ps.executeQuery()) {
                check(rs.next(), "a row from " + sql);
                return rs.getString(1);
            }
        }
    }

    static void textFormat() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT '35-209900-176148-1'::imei_registry.imei, ?::imei_registry.imei")) {
            ps.setString(1, "001013001234568");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                equal("352099001761481", rs.getString(1));
                equal("001013001234568", rs.getString(2));
                equal("imei", rs.getMetaData().getColumnTypeName(1));
            }
        }
    }

    static void binaryFormat() throws SQLException {
        // pgjdbc asks for binary results only for the types it is told about
        String oid = one("SELECT 'imei_registry.imei'::regtype::oid::text");
        Properties props = new Properties();
        props.setProperty("binaryTransferEnable", oid);
        props.setProperty("prepareThreshold", "-1");     // binary from the first execution
        try (Connection bin = connect(props);
             PreparedStatement ps = bin.prepareStatement("SELECT ?::imei_registry.imei")) {
            ps.setString(1, "001013001234568");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                byte[] raw = rs.getBytes(1);
                equal(8, raw.length);
                long v = ByteBuffer.wrap(raw).getLong();   // network byte order
                equal(1013001234568L, v);
                equal("001013001234568", String.format("%015d", v));
            }
        }
    }

    static void typoRefused() {
        SQLException e = refused(conn, "SELECT ?::imei_registry.imei", "352099001761482");
        equal("22P02", e.getSQLState());
        check(e.getMessage().contains(
            "invalid check digit for type imei: \"352099001761482\", should be 1"), e.getMessage());
        equal("22003", refused(conn, "SELECT ?::bigint::imei_registry.imei", "1000000000000000")
            .getSQLState());
    }

    static void checkAndReport() throws SQLException {
        String dev = imei("86300199", 1);
        try (PreparedStatement check = conn.prepareStatement(
                 "SELECT status, reason, grey_last_day, days_left"
                 + " FROM imei_registry.check_imei(?::imei_registry.imei)");
             PreparedStatement report = conn.prepareStatement(
                 "SELECT imei_registry.report_connection(?::imei_registry.imei, ?, ?::timestamptz)")) {
            // past prepareThreshold (5): the server-side prepared statement answers too
            for (int i = 0; i < 6; i++) {
                check.setString(1, dev);
                try (ResultSet rs = check.executeQuery()) {
                    rs.next();
                    equal(null, rs.getString("status"));
                    equal("not_registered", rs.getString("reason"));
                }
            }
            report.setString(1, dev);
            report.setString(2, OPERATOR);
            // two days ago: a grey period of 30 days from its date in Almaty (UTC+5)
            java.time.OffsetDateTime at = java.time.OffsetDateTime.now(java.time.ZoneOffset.ofHours(5)).minusDays(2);
            report.setString(3, at.toString());
            try (ResultSet rs = report.executeQuery()) {
                rs.next();
                equal("grey", rs.getString(1));
            }
            check.setString(1, dev);
            try (ResultSet rs = check.executeQuery()) {
                rs.next();
                equal("grey", rs.getString("status"));
                equal("unverified", rs.getString("reason"));
                equal(at.toLocalDate().plusDays(30), rs.getObject("grey_last_day", LocalDate.class));
            }
        }
        SQLException e = refused(conn,
            "SELECT imei_registry.report_connection(?::imei_registry.imei, ?)", imei("86300199", 2), "tele2");
        equal("22023", e.getSQLState());
    }

    static void application() throws SQLException {
        String a = imei("86300101", 1), b = imei("86300101", 2);
        for (String d : new String[] {a, b})
            one("SELECT imei_registry.report_connection(?::imei_registry.imei, ?)", d, OPERATOR);
        String json = "{\"applicant\": {\"kind\": \"individual\", \"id\": \"901123300258\"},"
            + " \"method\": \"accompanied_baggage\", \"import_date\": \"2025-06-01\","
            + " \"exporting_country\": \"AE\","
            + " \"documents\": [{\"type\": \"border_crossing_certificate\", \"number\": \"BC-1\","
            + " \"holder_id\": \"901123300258\", \"issued_on\": \"2025-06-01\"}],"
            + " \"devices\": [{\"model\": \"Duo\", \"imeis\": [\"" + a + "\", \"" + b + "\"]}]}";
        // unsigned: scripts/test turns imei_registry.require_signature off for this database
        String id = one("SELECT imei_registry.submit_application(?::jsonb)", json);
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT r ->> 'decision', jsonb_array_length(r -> 'reasons')"
                + " FROM imei_registry.decide_application(?) r")) {
            ps.setLong(1, Long.parseLong(id));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                equal("approved", rs.getString(1));
                equal(0, rs.getInt(2));
            }
        }
        for (String d : new String[] {a, b})
            equal("white/application_approved", one(
                "SELECT status || '/' || reason FROM imei_registry.check_imei(?::imei_registry.imei)", d));
        SQLException e = refused(conn, "SELECT imei_registry.decide_application(?::bigint)", id);
        equal("55000", e.getSQLState());
    }

    static void forbidden() throws SQLException {
        String dev = imei("86300199", 3);
        one("SELECT imei_registry.report_connection(?::imei_registry.imei, ?)", dev, OPERATOR);
        SQLException e = refused(conn,
            "UPDATE imei_registry.registry SET status = 'white', reason = 'reinstated', note = 'no'"
            + " WHERE imei = ?::imei_registry.imei", dev);
        equal("IR001", e.getSQLState());
        check(e.getMessage().contains(
            "IMEI " + dev + " cannot change from grey to white by reason \"reinstated\""), e.getMessage());
    }

    static void copyIn() throws Exception {
        StringBuilder csv = new StringBuilder("operator,imei,connected_at\n");
        for (int i = 1; i <= 50; i++)
            csv.append(OPERATOR).append(',').append(imei("86300150", i)).append(",2026-03-01 09:00+05\n");
        csv.append(OPERATOR).append(',').append(imei("86300150", 1)).append(",2026-03-01 00:00+00\n"); // 52: earlier, moves it
        csv.append("tele2,").append(imei("86300150", 99)).append(",2026-03-01\n");            // 53: unknown operator
        csv.append(OPERATOR).append(",86300150,2026-03-01\n");                                // 54: wrong length
        String bad = imei("86300150", 2).substring(0, 14) + "9";                              // 55: check digit
        csv.append(OPERATOR).append(',').append(bad).append(",2026-03-01\n");

        conn.clearWarnings();
        CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
        long rows = copy.copyIn(
            "COPY imei_registry.upload_connections FROM STDIN (FORMAT csv, HEADER true)",
            new StringReader(csv.toString()));
        equal(0L, rows);    // the target never holds a row

        long importId;
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery(
                 "SELECT import_id, rows_read, rows_loaded, rows_rejected, rows_already_present"
                 + " FROM imei_registry.imports ORDER BY import_id DESC LIMIT 1")) {
            rs.next();
            importId = rs.getLong(1);
            equal("54 51 3 0", rs.getLong(2) + " " + rs.getLong(3) + " " + rs.getLong(4) + " " + rs.getLong(5));
        }
        SQLWarning w = conn.getWarnings();
        check(w != null, "the import's notice");
        equal("import " + importId + " into imei_registry.upload_connections: 54 rows read,"
              + " 51 loaded (0 already present), 3 rejected", w.getMessage());
        StringBuilder rejects = new StringBuilder();
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT line_number, reason FROM imei_registry.import_rejects"
                + " WHERE import_id = ? ORDER BY line_number")) {
            ps.setLong(1, importId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) rejects.append(rs.getLong(1)).append(' ').append(rs.getString(2)).append(';');
            }
        }
        equal("53 unknown_operator;54 wrong_length;55 bad_check_digit;",
              rejects.toString());
    }
}
