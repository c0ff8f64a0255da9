import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs mongo-java-server's in-memory backend on one TCP port (the alternative to FerretDB in
 * scripts/services/mongo.sh, MONGO_SERVER=java). Its own newest ServerVersion reports wire version
 * 8, which the Node driver 7 refuses (it needs 9 or more), so this reports MongoDB 5.0 / wire 13.
 *
 *   java -cp 'libs/*:.' MongoJavaServerLauncher 127.0.0.1 27018
 */
public final class MongoJavaServerLauncher {
  private static final MongoVersion MONGO_5_0_WIRE_13 =
      new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
          return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
          return 13;
        }
      };

  public static void main(String[] args) throws InterruptedException {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 27018;
    MongoServer server = new MongoServer(new MemoryBackend().version(MONGO_5_0_WIRE_13));
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.shutdown();
                  done.countDown();
                }));
    server.bind(host, port);
    System.err.println("mongo-java-server: listening on " + host + ":" + port);
    done.await();
  }
}
