// The PostgreSQL JDBC driver (Debian's libpostgresql-jdbc-java) against lakemesh: statements,
// prepared statements run past the driver's prepareThreshold (it then asks for binary results),
// fetch-size paging (portal suspension), errors with SQLSTATEs and a transaction.
// Usage: java -cp postgresql.jar:. PgClient HOST:PORT USER PASSWORD
// Prints one "key value" line per check.
import java.sql.*;

public class PgClient {
  public static void main(String[] a) throws Exception {
    String url = "jdbc:postgresql://" + a[0] + "/lakemesh";
    try (Connection c = DriverManager.getConnection(url, a[1], a[2])) {
      DatabaseMetaData md = c.getMetaData();
      System.out.println("product " + md.getDatabaseProductName());
      try (Statement s = c.createStatement();
           ResultSet r = s.executeQuery(
               "SELECT count(*), sum(amount) FROM sales.orders o JOIN crm.customers c "
               + "ON o.customer = c.id")) {
        r.next();
        System.out.println("join " + r.getLong(1) + " " + r.getBigDecimal(2));
      }
      try (PreparedStatement p = c.prepareStatement(
               "SELECT id, amount, paid, ts FROM sales.orders WHERE id = ?")) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
          p.setLong(1, 1 + (i % 3));
          try (ResultSet r = p.executeQuery()) {
            r.next();
            sb.append(r.getLong(1)).append(':').append(r.getBigDecimal(2)).append(':')
              .append(r.getBoolean(3)).append(':').append(r.getTimestamp(4).toInstant()).append(' ');
          }
        }
        System.out.println("prepared " + sb.toString().trim());
      }
      // Lists are PostgreSQL arrays: java.sql.Array, in text and (past the threshold) binary.
      try (PreparedStatement p = c.prepareStatement(
               "SELECT array_agg(id ORDER BY id), ['a b', NULL, 'q\"x'] FROM sales.orders "
               + "WHERE id <= ?")) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 7; i++) {
          p.setLong(1, 3);
          try (ResultSet r = p.executeQuery()) {
            r.next();
            Object[] ids = (Object[]) r.getArray(1).getArray();
            Object[] texts = (Object[]) r.getArray(2).getArray();
            sb.append(r.getArray(1).getBaseTypeName()).append(':')
              .append(java.util.Arrays.toString(ids).replace(" ", "")).append(':')
              .append(java.util.Arrays.toString(texts).replace(" ", "_")).append(' ');
          }
        }
        System.out.println("arrays " + sb.toString().trim());
      }
      try (Statement s = c.createStatement()) {
        s.executeQuery("SELECT * FROM sales.nope");
      } catch (SQLException e) {
        System.out.println("error " + e.getSQLState());
      }
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.setFetchSize(7);
        try (ResultSet r = s.executeQuery("SELECT i FROM range(50) t(i)")) {
          long n = 0, sum = 0;
          while (r.next()) {
            n++;
            sum += r.getLong(1);
          }
          System.out.println("fetched " + n + " " + sum);
        }
      }
      c.commit();
      c.setAutoCommit(true);
      // DatabaseMetaData, as DBeaver's navigator and BI tools browse the database.
      StringBuilder schemas = new StringBuilder();
      try (ResultSet r = md.getSchemas()) {
        while (r.next()) schemas.append(r.getString("TABLE_SCHEM")).append(' ');
      }
      System.out.println("schemas " + schemas.toString().trim());
      StringBuilder tables = new StringBuilder();
      try (ResultSet r = md.getTables(null, null, "%", new String[] {"TABLE"})) {
        while (r.next()) {
          tables.append(r.getString("TABLE_SCHEM")).append('.').append(r.getString("TABLE_NAME"))
              .append(' ');
        }
      }
      System.out.println("tables " + tables.toString().trim());
      StringBuilder columns = new StringBuilder();
      try (ResultSet r = md.getColumns(null, "sales", "orders", "%")) {
        while (r.next()) {
          columns.append(r.getString("COLUMN_NAME")).append(':').append(r.getString("TYPE_NAME"))
              .append(' ');
        }
      }
      System.out.println("columns " + columns.toString().trim());
      try (ResultSet r = md.getPrimaryKeys(null, "sales", "orders")) {
        int n = 0;
        while (r.next()) n++;
        System.out.println("primary-keys " + n);
      }
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SHOW lakemesh.ref")) {
        r.next();
        System.out.println("ref " + r.getString(1));
      }
      // Writes with parameters: a batch of INSERTs, an UPDATE (the extended protocol).
      int inserted = 0;
      try (PreparedStatement ps =
               c.prepareStatement("INSERT INTO crm.customers (id, name) VALUES (?, ?)")) {
        for (int i = 0; i < 3; i++) {
          ps.setLong(1, 100 + i);
          ps.setString(2, "it's " + i);
          ps.addBatch();
        }
        for (int n : ps.executeBatch()) inserted += n;
      }
      int updated;
      try (PreparedStatement ps =
               c.prepareStatement("UPDATE crm.customers SET name = ? WHERE id = ?")) {
        ps.setString(1, "renamed");
        ps.setLong(2, 101);
        updated = ps.executeUpdate();
      }
      try (Statement s = c.createStatement();
           ResultSet r = s.executeQuery("SELECT string_agg(name, '|' ORDER BY id) FROM "
                                        + "crm.customers WHERE id BETWEEN 100 AND 109")) {
        r.next();
        System.out.println("written " + inserted + " " + updated + " " + r.getString(1));
      }
      // Generated keys: the driver adds RETURNING * to the INSERT.
      try (PreparedStatement ps = c.prepareStatement(
               "INSERT INTO crm.customers (id, name) VALUES (?, ?)", Statement.RETURN_GENERATED_KEYS)) {
        ps.setLong(1, 110);
        ps.setString(2, "keyed");
        int n = ps.executeUpdate();
        try (ResultSet k = ps.getGeneratedKeys()) {
          k.next();
          System.out.println("generated " + n + " " + k.getLong("id") + " " + k.getString("name"));
        }
      }
      // The driver's CopyManager loads CSV rows (COPY FROM STDIN).
      org.postgresql.copy.CopyManager copy =
          c.unwrap(org.postgresql.PGConnection.class).getCopyAPI();
      long copied = copy.copyIn("COPY crm.customers (id, name) FROM STDIN WITH (FORMAT csv)",
                                new java.io.StringReader("90,Turing\n91,\"Hamilton, M.\"\n"));
      try (Statement s = c.createStatement();
           ResultSet r = s.executeQuery("SELECT string_agg(name, '|' ORDER BY id) FROM "
                                        + "crm.customers WHERE id BETWEEN 90 AND 99")) {
        r.next();
        System.out.println("copied " + copied + " " + r.getString(1));
      }
    }
  }
}
