#include <gtest/gtest.h>

#include "core/catalog.h"
#include "core/embedded.h"
#include "core/pipeline.h"

namespace calprobe::core {
namespace {

Catalog Builtin() {
  Catalog c;
  Status s = c.LoadString(std::string(kEmbeddedEventCatalog), "events.yaml");
  EXPECT_TRUE(s.ok()) << s.message();
  return c;
}

Event Hold(std::string name) {
  Event e;
  e.name = std::move(name);
  e.time = TimePoint(std::chrono::hours(24 * 365 * 57));
  e.With("source", std::string("search")).With("ttl_minutes", int64_t{15}).With("overlap_detected", false);
  return e;
}

TEST(CatalogTest, ShipsEverySeedEvent) {
  Catalog c = Builtin();
  for (const char* name :
       {"cal.feasible.generated", "cal.feasible.cache.hit", "cal.feasible.cache.miss", "cal.hold.created",
        "cal.hold.expired", "cal.hold.converted", "cal.rule.updated", "cal.exception.upserted",
        "cal.ics.poll.ok", "cal.ics.poll.error", "cal.ics.feed.requested", "cal.ui.weekly_rule.updated",
        "cal.ui.exception.added", "cal.ui.sync.retry", "cal.ui.hold.create", "cal.ics.feed.token.regenerated",
        "cal.ics.backlog", "calprobe.probe.result"}) {
    EXPECT_TRUE(c.Find(name)) << name;
  }
  const EventSpec* gen = c.Find("cal.feasible.generated");
  ASSERT_TRUE(gen);
  int required = 0;
  for (const auto& f : gen->fields) required += f.required;
  EXPECT_EQ(required, 4);  // slot_count, candidate_windows, duration_ms, truncated
}

TEST(CatalogTest, ValidatesFieldsAndTypes) {
  Catalog c = Builtin();
  EXPECT_TRUE(c.Validate(Hold("cal.hold.created")).ok());
  Event with_id = Hold("cal.hold.expired");
  with_id.With("hold_id", std::string("h1"));
  EXPECT_TRUE(c.Validate(with_id).ok());

  Event missing = Hold("cal.hold.created");
  missing.fields.pop_back();
  EXPECT_EQ(c.Validate(missing).message(), "missing required field \"overlap_detected\" for cal.hold.created");

  Event wrong = Hold("cal.hold.created");
  wrong.fields[1].value = std::string("15");
  EXPECT_EQ(c.Validate(wrong).message(), "field \"ttl_minutes\" of cal.hold.created must be number");

  Event unknown_field = Hold("cal.hold.created");
  unknown_field.With("colour", std::string("red"));
  EXPECT_NE(c.Validate(unknown_field).message().find("unknown field \"colour\" for cal.hold.created"),
            std::string::npos);

  Event int_field;
  int_field.name = "cal.ics.backlog";
  int_field.With("size", 3.5).With("queue_size", int64_t{10});
  EXPECT_EQ(c.Validate(int_field).message(), "field \"size\" of cal.ics.backlog must be int");
}

TEST(CatalogTest, UserExtensionsAndTheirErrors) {
  Catalog c = Builtin();
  EXPECT_TRUE(c.LoadString("events:\n  acme.custom:\n    fields:\n      n: {type: int, required: true}\n", "x.yaml").ok());
  EXPECT_TRUE(c.Find("acme.custom"));
  Status dup = c.LoadString("events:\n  acme.custom: {}\n", "y.yaml");
  EXPECT_NE(dup.message().find("y.yaml:2:16: events.acme.custom: event \"acme.custom\" is declared twice"),
            std::string::npos)
      << dup.message();
  Status bad = c.LoadString("events:\n  acme.x:\n    fields:\n      n: {type: integer}\n", "z.yaml");
  EXPECT_NE(bad.message().find("events.acme.x.fields.n.type: expected int, number, bool or string"),
            std::string::npos)
      << bad.message();
  Status label = c.LoadString("events:\n  acme.y:\n    fields:\n      provider: {type: string}\n", "w.yaml");
  EXPECT_NE(label.message().find("is a label, not a field"), std::string::npos);
}

TEST(PipelineTest, BoundsCountsAndFansOut) {
  Catalog c = Builtin();
  ManualClock clock(TimePoint(std::chrono::hours(24 * 365 * 57)));
  MetricsRegistry metrics;
  EventPipeline p(c, clock, metrics, {std::chrono::minutes(10), std::chrono::minutes(2), 2});
  int seen = 0;
  p.Subscribe([&](const Event& e) {
    ++seen;
    EXPECT_EQ(e.labels.Get(Label::kOrigin), "platform");  // defaulted
  });
  for (const char* provider : {"p1", "p2", "p3", "p4"}) {
    Event e = Hold("cal.hold.created");
    e.time = clock.Now();
    e.labels.Set(Label::kProvider, provider);
    EXPECT_TRUE(p.Emit(e).ok());
  }
  EXPECT_EQ(seen, 4);
  std::string text = metrics.Render();
  EXPECT_NE(text.find(R"(calprobe_events_total{event="cal.hold.created",provider="p1",role="",region="",origin="platform"} 1)"),
            std::string::npos)
      << text;
  // Only 2 distinct providers are exported; the rest fold into "other".
  EXPECT_NE(text.find(R"(provider="other",role="",region="",origin="platform"} 2)"), std::string::npos) << text;

  Event late = Hold("cal.hold.created");
  late.time = clock.Now() - std::chrono::minutes(11);
  EXPECT_NE(p.Emit(late).message().find("lateness limit"), std::string::npos);
  Event future = Hold("cal.hold.created");
  future.time = clock.Now() + std::chrono::minutes(3);
  EXPECT_NE(p.Emit(future).message().find("ahead of the agent's clock"), std::string::npos);
  Event edge = Hold("cal.hold.created");
  edge.time = clock.Now() - std::chrono::minutes(10);
  EXPECT_TRUE(p.Emit(edge).ok());
  Event bad_origin = Hold("cal.hold.created");
  bad_origin.time = clock.Now();
  bad_origin.labels.Set(Label::kOrigin, "elsewhere");
  EXPECT_FALSE(p.Emit(bad_origin).ok());
  EXPECT_EQ(seen, 5);
  text = metrics.Render();
  EXPECT_NE(text.find(R"(calprobe_events_rejected_total{reason="too_late"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(calprobe_events_rejected_total{reason="too_far_in_future"} 1)"), std::string::npos);
}

}  // namespace
}  // namespace calprobe::core
