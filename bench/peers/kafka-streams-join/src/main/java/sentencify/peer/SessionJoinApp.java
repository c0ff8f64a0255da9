package sentencify.peer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The A/B/C session join as a Kafka Streams application: the peer bench/join-kafka.ts measures
 * Sentencify's join processor against.
 *
 * <p>One source over the three co-partitioned topics (so one task per partition sees A, B and C
 * of a session), a processor with a key-value store of sessions (in memory, change-logged, with
 * the record cache on, as a DSL aggregate would be), and the complete sessions written to the
 * output topic as {@code {"recommend_session_id":…,"a":A,"b":B,"c":C}}, keyed by session.
 *
 * <p>The same time rules as streams/state/session-join.ts, for which sessions count as complete:
 * event time from the value's {@code ts}; per task a watermark = the minimum over the three
 * topics of the largest event time seen on each; a session's window starts at its earliest event
 * and lasts {@code --window-ms} (an earlier event moves it while it is open); while open, A, B and
 * C count when they are before the window end; once the watermark passes it, events up to window
 * + {@code --grace-ms} count too; later ones never; an event for an unknown session more than
 * grace behind its topic is dropped; a session is forgotten once the watermark passes window +
 * grace + tombstone (= max(window, grace)). It emits each complete session once. What it does not do that ours does: no schema validation, no dead letters, no
 * revisions or incomplete (negative) examples, no consistency flags, no duplicate or conflict
 * detection beyond keeping the first event of each kind.
 *
 * <p>Arguments: --brokers --app-id --topics a,b,c --output --window-ms --grace-ms --state-dir
 * [--threads 1] [--expect N] [--config k=v,k=v (any Streams or client setting)]. Prints JSON lines on stdout: {@code {"first":ms}} at the first
 * record, {@code {"processed":n,"emitted":m,"at":ms}} when n reaches --expect (then asks for a
 * commit, so the benchmark can see every input committed).
 */
public final class SessionJoinApp {
  static final String STORE = "sessions";
  static final AtomicLong PROCESSED = new AtomicLong();
  static final AtomicLong EMITTED = new AtomicLong();
  static final AtomicLong FIRST = new AtomicLong();
  /** Time inside the processor (parse, store, join), to tell it from Streams' own machinery. */
  static final AtomicLong PROCESS_NS = new AtomicLong();

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
    String brokers = need(a, "brokers");
    List<String> topics = Arrays.asList(need(a, "topics").split(","));
    String output = need(a, "output");
    long windowMs = Long.parseLong(need(a, "window-ms"));
    long graceMs = Long.parseLong(need(a, "grace-ms"));
    long expect = Long.parseLong(a.getOrDefault("expect", "-1"));

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, need(a, "app-id"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(StreamsConfig.STATE_DIR_CONFIG, need(a, "state-dir"));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(a.getOrDefault("threads", "1")));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    // Extra Streams/client settings, "k=v,k=v" (the benchmark records what it passed).
    for (String kv : a.getOrDefault("config", "").split(",")) {
      int i = kv.indexOf('=');
      if (i > 0) p.put(kv.substring(0, i).trim(), kv.substring(i + 1).trim());
    }

    StoreBuilder<KeyValueStore<String, Session>> store =
        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STORE), Serdes.String(), new SessionSerde())
            .withCachingEnabled();
    StreamsBuilder b = new StreamsBuilder();
    b.addStateStore(store);
    b.stream(topics, Consumed.with(Serdes.String(), Serdes.String()))
        .process(() -> new JoinProcessor(topics, windowMs, graceMs, expect), STORE)
        .to(output, Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(b.build(), p);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      stopped.countDown();
    }));
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("peer: stream thread failed: " + e);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
          .SHUTDOWN_CLIENT;
    });
    streams.start();
    stopped.await();
  }

  static String need(Map<String, String> a, String k) {
    String v = a.get(k);
    if (v == null) throw new IllegalArgumentException("missing --" + k);
    return v;
  }

  static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  /**
   * What the store holds per session: its window start, whether emitted, and per kind (A, B, C)
   * the earliest event and its time (completeness only asks whether one is before a limit).
   */
  static final class Session {
    long anchor;
    boolean emitted;
    final long[] ts = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
    final String[] abc = new String[3];
  }

  static final class SessionSerde implements Serde<Session> {
    @Override
    public Serializer<Session> serializer() {
      return (topic, s) -> {
        if (s == null) return null;
        try {
          ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
          DataOutputStream out = new DataOutputStream(bytes);
          out.writeLong(s.anchor);
          out.writeBoolean(s.emitted);
          for (int i = 0; i < 3; i++) {
            out.writeLong(s.ts[i]);
            String v = s.abc[i];
            byte[] u = v == null ? null : v.getBytes(StandardCharsets.UTF_8);
            out.writeInt(u == null ? -1 : u.length);
            if (u != null) out.write(u);
          }
          return bytes.toByteArray();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
    }

    @Override
    public Deserializer<Session> deserializer() {
      return (topic, data) -> {
        if (data == null) return null;
        try {
          DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
          Session s = new Session();
          s.anchor = in.readLong();
          s.emitted = in.readBoolean();
          for (int i = 0; i < 3; i++) {
            s.ts[i] = in.readLong();
            int n = in.readInt();
            if (n >= 0) {
              byte[] u = in.readNBytes(n);
              s.abc[i] = new String(u, StandardCharsets.UTF_8);
            }
          }
          return s;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
    }
  }

  /** One per task (= partition): the watermark and the expiry order are the task's own. */
  static final class JoinProcessor implements Processor<String, String, String, String> {
    private static final JsonFactory JSON = new JsonFactory();
    private final List<String> topics;
    private final long windowMs;
    private final long graceMs;
    private final long tombstoneMs;
    private final long expect;
    private final long[] topicMax;
    private long wm = Long.MIN_VALUE;
    private static final Object CLOSE = "close";
    private static final Object FORGET = "forget";
    /** (time, session id, CLOSE or FORGET), oldest first; rebuilt from the store on start. */
    private final PriorityQueue<Object[]> expiry = new PriorityQueue<>((x, y) -> Long.compare((long) x[0], (long) y[0]));
    private ProcessorContext<String, String> ctx;
    private KeyValueStore<String, Session> store;

    JoinProcessor(List<String> topics, long windowMs, long graceMs, long expect) {
      this.topics = topics;
      this.windowMs = windowMs;
      this.graceMs = graceMs;
      this.tombstoneMs = Math.max(windowMs, graceMs);
      this.expect = expect;
      this.topicMax = new long[topics.size()];
      Arrays.fill(topicMax, Long.MIN_VALUE);
    }

    @Override
    public void init(ProcessorContext<String, String> context) {
      ctx = context;
      store = context.getStateStore(STORE);
      try (KeyValueIterator<String, Session> it = store.all()) {
        while (it.hasNext()) {
          KeyValue<String, Session> kv = it.next();
          schedule(kv.key, kv.value);
        }
      }
    }

    /** The session's window close and the time it is forgotten, in the deadline queue. */
    private void schedule(String key, Session s) {
      expiry.add(new Object[] {s.anchor + windowMs, key, CLOSE});
      expiry.add(new Object[] {s.anchor + windowMs + graceMs + tombstoneMs, key, FORGET});
    }

    @Override
    public void process(Record<String, String> rec) {
      long t0 = System.nanoTime();
      long n = PROCESSED.incrementAndGet();
      if (n == 1) {
        FIRST.set(System.currentTimeMillis());
        say("{\"first\":" + FIRST.get() + "}");
      }
      String topic = ctx.recordMetadata().map(m -> m.topic()).orElse("");
      int t = topics.indexOf(topic);
      long ts = eventTime(rec.value());
      String key = rec.key();
      if (t >= 0 && ts != Long.MIN_VALUE && key != null) join(t, key, ts, rec);
      long inProcess = PROCESS_NS.addAndGet(System.nanoTime() - t0);
      if (n == expect) {
        say("{\"processed\":" + n + ",\"emitted\":" + EMITTED.get() + ",\"at\":" + System.currentTimeMillis()
            + ",\"process_ms\":" + inProcess / 1_000_000 + "}");
      }
      // Past --expect every record asks for a commit, so the last one is committed promptly.
      if (expect > 0 && n >= expect) ctx.commit();
    }

    private void join(int t, String key, long ts, Record<String, String> rec) {
      long maxBefore = topicMax[t];
      Session s = store.get(key);
      if (s == null) {
        if (maxBefore != Long.MIN_VALUE && ts < maxBefore - graceMs) {
          advance(t, ts, rec); // too late for a new session
          return;
        }
        s = new Session();
        s.anchor = ts;
        schedule(key, s);
      } else if (ts >= s.anchor + windowMs + graceMs || wm >= s.anchor + windowMs + graceMs) {
        advance(t, ts, rec); // after the window and grace, or the session's grace is over
        return;
      } else if (wm < s.anchor + windowMs && ts < s.anchor) {
        s.anchor = ts; // an earlier event while open moves the window
        schedule(key, s);
      }
      int kind = t; // topics are given as A,B,C
      if (ts < s.ts[kind]) {
        s.ts[kind] = ts;
        s.abc[kind] = rec.value();
      }
      maybeEmit(key, s, rec);
      store.put(key, s);
      advance(t, ts, rec);
    }

    /**
     * Complete: A, B and C each have an event before the window end while the window is open;
     * once it closed, before the end of grace.
     */
    private boolean maybeEmit(String key, Session s, Record<String, String> rec) {
      if (s.emitted) return false;
      // Events at or after window + grace never count, even when read before the window closed
      // (a C read ahead of its A moves the window back under it).
      long limit = wm < s.anchor + windowMs ? s.anchor + windowMs : s.anchor + windowMs + graceMs;
      if (s.ts[0] >= limit || s.ts[1] >= limit || s.ts[2] >= limit) return false;
      s.emitted = true;
      EMITTED.incrementAndGet();
      String joined = "{\"recommend_session_id\":" + quote(key) + ",\"a\":" + s.abc[0] + ",\"b\":" + s.abc[1]
          + ",\"c\":" + s.abc[2] + "}";
      ctx.forward(new Record<>(key, joined, rec.timestamp()));
      return true;
    }

    private void advance(int t, long ts, Record<String, String> rec) {
      if (ts <= topicMax[t]) return;
      topicMax[t] = ts;
      long m = Long.MAX_VALUE;
      for (long x : topicMax) m = Math.min(m, x);
      if (m <= wm) return;
      wm = m;
      while (!expiry.isEmpty() && (long) expiry.peek()[0] <= wm) {
        Object[] e = expiry.poll();
        String key = (String) e[1];
        Session s = store.get(key);
        if (s == null) continue;
        if (e[2] == CLOSE) {
          // The window closed: late events (within grace) now count.
          if (maybeEmit(key, s, rec)) store.put(key, s);
        } else if (s.anchor + windowMs + graceMs + tombstoneMs <= wm) {
          // A re-anchored session has a later entry too; forget it only at its own time.
          store.delete(key);
        }
      }
    }

    /** Event time of the value's top-level "ts" (ISO-8601), or MIN_VALUE when it has none. */
    private static long eventTime(String value) {
      try (JsonParser p = JSON.createParser(value)) {
        if (p.nextToken() != JsonToken.START_OBJECT) return Long.MIN_VALUE;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String f = p.currentName();
          JsonToken v = p.nextToken();
          if ("ts".equals(f) && v == JsonToken.VALUE_STRING) return Instant.parse(p.getText()).toEpochMilli();
          p.skipChildren();
        }
        return Long.MIN_VALUE;
      } catch (Exception e) {
        return Long.MIN_VALUE;
      }
    }

    private static String quote(String s) {
      StringBuilder b = new StringBuilder(s.length() + 2).append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == '"' || c == '\\') b.append('\\').append(c);
        else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
        else b.append(c);
      }
      return b.append('"').toString();
    }
  }
}
