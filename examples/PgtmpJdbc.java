// Run: java -cp /usr/share/java/postgresql.jar examples/PgtmpJdbc.java   (Debian: libpostgresql-jdbc-java)
import java.sql.*;
import java.util.*;

public class PgtmpJdbc {
    static String url; // jdbc:postgresql://127.0.0.1:PORT/test?user=...&password=...
    static Connection db;

    // JUnit 5: make this @BeforeAll, and an @AfterAll does db.close() and `pgtmp stop url`.
    static void setUp() throws Exception {
        // -F jdbc prints a JDBC URL and implies -t: JDBC cannot use a Unix socket.
        List<String> cmd = new ArrayList<>(List.of("pgtmp"));
        for (String flag : System.getenv().getOrDefault("PGTMP_FLAGS", "-F jdbc").split(" "))
            if (!flag.isEmpty()) cmd.add(flag);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        url = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0) throw new IllegalStateException("pgtmp failed");
        db = DriverManager.getConnection(url);
    }

    static void tearDown() throws Exception {
        if (db != null) db.close();
        if (url != null) new ProcessBuilder("pgtmp", "stop", url).inheritIO().start().waitFor();
    }

    public static void main(String[] args) throws Exception {
        try {
            setUp();
            ResultSet rs = db.createStatement().executeQuery("select current_database()");
            rs.next();
            if (!rs.getString(1).equals("test")) throw new AssertionError(rs.getString(1));
            System.out.println("ok: " + rs.getString(1));
        } finally {
            tearDown();
        }
    }
}
