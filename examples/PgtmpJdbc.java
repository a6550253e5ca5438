// Run: java -cp /usr/share/java/postgresql.jar examples/PgtmpJdbc.java   (JDBC has no Unix sockets: use pgtmp -t)
import java.net.URI;
import java.sql.*;

public class PgtmpJdbc {
    static String url; // postgresql://root:PASSWORD@127.0.0.1:PORT/test
    static Connection db;

    // JUnit 5: mark this @BeforeAll, and an @AfterAll does db.close() + `pgtmp stop url`.
    static void setUp() throws Exception {
        Process p = new ProcessBuilder("pgtmp", "-t").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        url = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0) throw new IllegalStateException("pgtmp failed");
        URI u = URI.create(url);
        String[] user = u.getUserInfo().split(":", 2);
        db = DriverManager.getConnection("jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + u.getPath(), user[0], user[1]);
    }

    public static void main(String[] args) throws Exception {
        setUp();
        try (ResultSet rs = db.createStatement().executeQuery("select current_database(), current_user, inet_server_addr()")) {
            rs.next();
            System.out.println(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3));
        } finally {
            db.close();
            new ProcessBuilder("pgtmp", "stop", url).inheritIO().start().waitFor();
        }
    }
}
