import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * Runs mongo-java-server on one TCP port for scripts/services/mongo.sh: with a file argument on
 * its H2 MVStore backend (MONGO_SERVER=java-h2, data kept in that file), without one on its
 * in-memory backend (MONGO_SERVER=java). Its own newest ServerVersion reports wire version 8, which
 * the Node driver 7 refuses (it needs 9 or more), so this reports MongoDB 5.0 / wire 13.
 *
 *   java -cp 'libs/*:classes' MongoJavaServerLauncher 127.0.0.1 27018 [path/to/data.mv]
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

  /** The H2 backend's store (one per process; see IdFirstH2Database). */
  private static volatile MVStore STORE;

  /**
   * The H2 backend, committing the MVStore after every command that changed it, before the reply
   * goes out. MVStore alone writes its changes in the background about once a second, so a server
   * killed with SIGKILL would lose up to a second of writes the client was told had succeeded; the
   * sinks commit Kafka offsets on that acknowledgement, so those writes would be gone for good.
   * A commit is a write(2) into the file (no fsync): it survives the process dying, not the
   * machine losing power, which is all a local test server needs.
   */
  private static final class CommittingH2Backend extends H2Backend {
    CommittingH2Backend(MVStore store) {
      super(store);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String name) {
      return new IdFirstH2Database(name, getCursorRegistry());
    }

    @Override
    public Document handleCommand(Channel channel, String db, String command, Document query) {
      try {
        return super.handleCommand(channel, db, command, query);
      } finally {
        MVStore store = getMvStore();
        if (store.hasUnsavedChanges()) {
          store.commit();
        }
      }
    }
  }

  /**
   * H2Database creating {@link IdFirstH2Collection}s (same map names as H2Database's own). Its
   * constructor already opens collections, before a field of this subclass would be set, hence
   * the one store of the process is a static.
   */
  private static final class IdFirstH2Database extends H2Database {
    IdFirstH2Database(String name, CursorRegistry cursors) {
      super(name, STORE, cursors);
    }

    @Override
    protected MongoCollection<Object> openOrCreateCollection(String name, CollectionOptions options) {
      MVStore store = STORE;
      String full = getFullCollectionNamespace(name);
      MVMap<Object, Document> data = store.openMap("databases." + full);
      MVMap<String, Object> meta = store.openMap("meta." + full);
      return new IdFirstH2Collection(this, name, options, data, meta, cursorRegistry);
    }
  }

  /**
   * Uses the _id index for any filter that pins _id, not only for a filter of _id alone. The
   * library picks an index only when the filter's fields are exactly the index's fields, so the
   * sink's guarded upsert {_id: x, revision: {$lt: r}} read and decoded every document of the
   * collection (42 ms per operation at 10,000 documents of 3 KB). Here the _id index narrows
   * the candidates and the whole filter is then applied to them as before, so results are the
   * same.
   */
  private static final class IdFirstH2Collection extends H2Collection {
    IdFirstH2Collection(
        MongoDatabase db,
        String name,
        CollectionOptions options,
        MVMap<Object, Document> data,
        MVMap<String, Object> meta,
        CursorRegistry cursors) {
      super(db, name, options, data, meta, cursors);
    }

    @Override
    protected QueryResult queryDocuments(
        Document query, Document orderBy, int skip, int limit, int batchSize, Document projection) {
      if (query.size() > 1 && query.containsKey("_id")) {
        Document byId = new Document("_id", query.get("_id"));
        for (Index<Object> index : getIndexes()) {
          if (index.canHandle(byId)) {
            return matchDocuments(
                query, index.getPositions(byId), orderBy, skip, limit, batchSize, projection);
          }
        }
      }
      return super.queryDocuments(query, orderBy, skip, limit, batchSize, projection);
    }
  }

  public static void main(String[] args) throws InterruptedException {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 27018;
    String file = args.length > 2 ? args[2] : null;
    MongoBackend backend;
    if (file == null) {
      backend = new MemoryBackend();
    } else {
      // MVStore's page cache (default 16 MB): a real MongoDB keeps its working set in memory
      // (WiredTiger takes half the RAM); with 16 MB, inserts whose _ids are spread over the index
      // (one partition's records, random UUIDs) keep reading pages back from the file.
      int cacheMb = Integer.getInteger("mvstore.cacheMB", 256);
      STORE = new MVStore.Builder().fileName(file).cacheSize(cacheMb).open();
      backend = new CommittingH2Backend(STORE);
    }
    MongoServer server = new MongoServer(backend.version(MONGO_5_0_WIRE_13));
    CountDownLatch done = new CountDownLatch(1);
    // SIGTERM/SIGINT: stop listening, then close the backend, which for H2 writes the last
    // changes and closes the file cleanly (the next open needs no recovery).
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.shutdown();
                  System.err.println("mongo-java-server: stopped" + (file == null ? "" : ", " + file + " closed"));
                  done.countDown();
                }));
    server.bind(host, port);
    System.err.println(
        "mongo-java-server: listening on " + host + ":" + port + (file == null ? " (in memory)" : " (H2 " + file + ")"));
    done.await();
  }
}
