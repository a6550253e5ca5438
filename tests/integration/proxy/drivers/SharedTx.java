import java.sql.*;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

public class SharedTx {
    static void check(boolean c, String m) { if (!c) { System.err.println("FAIL: " + m); System.exit(1); } }
    static int count(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) { r.next(); return r.getInt(1); }
    }
    public static void main(String[] args) throws Exception {
        String url = args[0];
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        Connection a = DriverManager.getConnection(url, p);
        Connection b = DriverManager.getConnection(url, p);
        try (Statement s = a.createStatement()) { s.execute("create table jt (id int primary key, v text)"); }
        a.setAutoCommit(false);
        for (int round = 0; round < 3; round++) {
            try (PreparedStatement ps = a.prepareStatement("insert into jt values (?, ?)")) {
                ps.setInt(1, round); ps.setString(2, "a"); ps.executeUpdate();
            }
            a.commit();
        }
        check(count(b, "select count(*) from jt") == 3, "commits visible");
        try (PreparedStatement ps = a.prepareStatement("insert into jt values (?, ?)")) {
            ps.setInt(1, 10); ps.setString(2, "x"); ps.executeUpdate();
        }
        a.rollback();
        a.setAutoCommit(true);
        check(count(b, "select count(*) from jt") == 3, "rollback");
        // prepared statements on both connections (server-side after threshold 1)
        for (int i = 0; i < 5; i++) {
            try (PreparedStatement pa = a.prepareStatement("select count(*) from jt where id >= ?");
                 PreparedStatement pb = b.prepareStatement("select ? || 'b'")) {
                pa.setInt(1, 0); ResultSet ra = pa.executeQuery(); ra.next(); check(ra.getInt(1) == 3, "pa");
                pb.setString(1, "x"); ResultSet rb = pb.executeQuery(); rb.next(); check(rb.getString(1).equals("xb"), "pb");
            }
        }
        // error in a while b works, a recovers
        try (Statement s = a.createStatement()) { s.execute("insert into jt values (1, 'dup')"); check(false, "dup"); }
        catch (SQLException e) { check(e.getSQLState().equals("23505"), "dup state " + e.getSQLState()); }
        check(count(b, "select count(*) from jt") == 3, "b after a's error");
        check(count(a, "select 1") == 1, "a after its error");
        // error inside a transaction: the transaction fails, rollback works
        a.setAutoCommit(false);
        try (Statement s = a.createStatement()) { s.execute("insert into jt values (50, 'y')"); s.execute("insert into jt values (1, 'dup')"); }
        catch (SQLException e) { check(e.getSQLState().equals("23505"), "dup in tx"); }
        try { count(a, "select 1"); check(false, "aborted"); } catch (SQLException e) { check(e.getSQLState().equals("25P02"), "aborted state " + e.getSQLState()); }
        a.rollback();
        a.setAutoCommit(true);
        check(count(b, "select count(*) from jt where id = 50") == 0, "failed tx gone");
        // batch
        try (PreparedStatement ps = a.prepareStatement("insert into jt values (?, 'batch')")) {
            for (int i = 100; i < 110; i++) { ps.setInt(1, i); ps.addBatch(); }
            ps.executeBatch();
        }
        check(count(b, "select count(*) from jt where v = 'batch'") == 10, "batch");
        // COPY in and out
        CopyManager cm = a.unwrap(PGConnection.class).getCopyAPI();
        cm.copyIn("copy jt (id, v) from stdin", new java.io.StringReader("200\tcopy\n201\tcopy\n"));
        java.io.StringWriter w = new java.io.StringWriter();
        cm.copyOut("copy (select id from jt where v = 'copy' order by id) to stdout", w);
        check(w.toString().equals("200\n201\n"), "copy out " + w);
        // cancel
        try (Statement s = a.createStatement()) {
            Thread t = new Thread(() -> { try { Thread.sleep(500); s.cancel(); } catch (Exception e) { } });
            t.start();
            try { s.execute("select pg_sleep(20)"); check(false, "cancel"); }
            catch (SQLException e) { check(e.getSQLState().equals("57014"), "cancel state " + e.getSQLState()); }
            t.join();
        }
        check(count(a, "select 2") == 2, "a after cancel");
        check(count(b, "select count(*) from jt") == 15, "b sees all");
        try (Statement s = b.createStatement()) { s.execute("ROLLBACK TEST 'jdbc'"); }
        try { count(a, "select count(*) from jt"); check(false, "gone"); } catch (SQLException e) { check(e.getSQLState().equals("42P01"), "gone state"); }
        a.close(); b.close();
        System.out.println("ok");
    }
}
