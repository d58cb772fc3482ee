#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "core/config/agent_config.h"
#include "core/config/config_node.h"
#include "core/scratch_arena.h"
#include "core/secrets.h"
#include "probes/builtin.h"

namespace calprobe::core {
namespace {

using std::chrono::milliseconds;

TEST(ScratchArenaTest, RunsOnItsOwnThreadAndPropagatesErrors) {
  std::thread::id ran_on;
  RunInScratchArena([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_NE(ran_on, std::thread::id());
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_THROW(RunInScratchArena([] { throw std::runtime_error("bad yaml"); }),
               std::runtime_error);
  ReleaseScratchArena();  // harmless with nothing to release
}

TEST(DurationTest, ParsesAndFormats) {
  EXPECT_EQ(ParseDuration("30s"), milliseconds(30000));
  EXPECT_EQ(ParseDuration("1m30s"), milliseconds(90000));
  EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(ParseDuration("2h"), milliseconds(7200000));
  EXPECT_EQ(ParseDuration("7d"), milliseconds(7 * 86400000LL));
  for (const char* bad : {"", "30", "s", "30 s", "1.5s", "30sec", "-1s"}) EXPECT_FALSE(ParseDuration(bad)) << bad;
  EXPECT_EQ(FormatDuration(milliseconds(90500)), "1m30s500ms");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
}

TEST(BytesTest, ParsesUnits) {
  EXPECT_EQ(ParseBytes("1024"), 1024u);
  EXPECT_EQ(ParseBytes("512KiB"), 512u * 1024);
  EXPECT_EQ(ParseBytes("8MiB"), 8u * 1024 * 1024);
  EXPECT_EQ(ParseBytes("10MB"), 10u * 1000 * 1000);
  EXPECT_FALSE(ParseBytes("8 MiB"));
  EXPECT_FALSE(ParseBytes("MiB"));
  EXPECT_FALSE(ParseBytes("8XB"));
}

TEST(ExpandEnvTest, SubstitutesAndRegistersSecrets) {
  Secrets::ClearForTest();
  setenv("CALPROBE_T_REGION", "eu-west", 1);
  setenv("CALPROBE_T_API_TOKEN", "tok-very-secret", 1);
  std::string err;
  EXPECT_EQ(ExpandEnv("r=${CALPROBE_T_REGION}", &err), "r=eu-west");
  EXPECT_EQ(ExpandEnv("${CALPROBE_T_UNSET:-fallback}", &err), "fallback");
  EXPECT_EQ(ExpandEnv("Bearer ${CALPROBE_T_API_TOKEN}", &err), "Bearer tok-very-secret");
  EXPECT_FALSE(ExpandEnv("${CALPROBE_T_UNSET}", &err));
  EXPECT_NE(err.find("environment variable CALPROBE_T_UNSET is not set"), std::string::npos);
  EXPECT_FALSE(ExpandEnv("${CALPROBE_T_REGION", &err));
  // Only the secret-looking variable's value is redacted.
  EXPECT_EQ(Secrets::Redact("token tok-very-secret in eu-west"), "token <redacted> in eu-west");
  std::string file = testing::TempDir() + "/calprobe-secret";
  std::ofstream(file) << "file-secret-value\n";
  EXPECT_EQ(ExpandEnv("${file:" + file + "}", &err), "file-secret-value");
  EXPECT_EQ(Secrets::Redact("x file-secret-value y"), "x <redacted> y");
  EXPECT_FALSE(ExpandEnv("${file:/nonexistent/secret}", &err));
}

TEST(SecretsTest, SealKeepsValuesOutOfStoredTextAndUnsealRestoresThem) {
  Secrets::ClearForTest();
  Secrets::Register("tok-abcdef-123456");
  Secrets::Register("1234");  // shorter, and made of hex digits: never matched inside a reference
  const std::string text = "Authorization: Bearer tok-abcdef-123456; pin=1234; x";
  const std::string sealed = Secrets::Seal(text);
  EXPECT_EQ(sealed.find("tok-abcdef-123456"), std::string::npos) << sealed;
  EXPECT_EQ(sealed.find("pin=1234;"), std::string::npos) << sealed;
  EXPECT_NE(sealed.find("Bearer {{calprobe-secret:"), std::string::npos) << sealed;
  auto back = Secrets::Unseal(sealed);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, text);
  // Text without references, and brace text that is not one, pass through.
  EXPECT_EQ(Secrets::Unseal("plain {{calprobe-secret:zz}} text"), "plain {{calprobe-secret:zz}} text");
  // After a "restart" without that secret registered: cannot be restored.
  Secrets::ClearForTest();
  Secrets::Register("1234");
  EXPECT_FALSE(Secrets::Unseal(sealed).has_value());
  Secrets::ClearForTest();
}

TEST(SecretsTest, RedactsUrlCredentials) {
  EXPECT_EQ(RedactUrl("https://user:pw@example.test/cal.ics?token=abc&x=1"),
            "https://user:<redacted>@example.test/cal.ics?token=<redacted>&x=1");
  EXPECT_EQ(RedactUrl("http://h/p?a=1&api_key=zz#f"), "http://h/p?a=1&api_key=<redacted>#f");
  EXPECT_EQ(RedactUrl("http://h/p?a=1"), "http://h/p?a=1");
  EXPECT_EQ(Secrets::Redact("GET https://h/feed.ics?token=s3cr3t failed"),
            "GET https://h/feed.ics?token=<redacted> failed");
}

class AgentConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    probes::RegisterBuiltinProbes(registry_);
    dir_ = std::filesystem::path(testing::TempDir()) / ("cfg-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "targets.d");
  }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  Result<AgentConfig> Load(const std::string& rel = "agent.yaml") {
    return LoadAgentConfig((dir_ / rel).string(), registry_);
  }
  ProbeRegistry registry_;
  std::filesystem::path dir_;
};

TEST_F(AgentConfigTest, DefaultsIncludesAndLabels) {
  Write("agent.yaml",
        "agent: {region: us-east}\n"
        "defaults: {interval: 20s}\n"
        "include: [targets.d/*.yaml]\n"
        "targets:\n"
        "  - name: a\n    probe: http\n    labels: {provider: p1, role: host, src_id: s1}\n"
        "    http: {url: 'http://127.0.0.1:1/'}\n");
  Write("targets.d/more.yaml", "targets:\n  - name: b\n    probe: http\n    interval: 1m\n    http: {url: 'http://127.0.0.1:1/b'}\n");
  auto cfg = Load();
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  ASSERT_EQ(cfg->targets.size(), 2u);
  const auto& a = cfg->targets[0];
  EXPECT_EQ(a.interval, milliseconds(20000));
  EXPECT_EQ(a.timeout, milliseconds(10000));  // default, below 80% of the interval
  EXPECT_EQ(a.labels.Get(Label::kProvider), "p1");
  EXPECT_EQ(a.labels.Get(Label::kSrcId), "s1");
  EXPECT_EQ(a.labels.Get(Label::kTarget), "a");
  EXPECT_EQ(a.labels.Get(Label::kOrigin), "synthetic");
  const auto& b = cfg->targets[1];
  EXPECT_EQ(b.interval, milliseconds(60000));
  EXPECT_NE(b.file.find("more.yaml"), std::string::npos);
  EXPECT_EQ(cfg->agent.region, "us-east");
}

TEST_F(AgentConfigTest, ShortIntervalGetsShorterDefaultTimeout) {
  Write("agent.yaml", "targets:\n  - {name: a, probe: http, interval: 1s, http: {url: 'http://x/'}}\n");
  auto cfg = Load();
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  EXPECT_EQ(cfg->targets[0].timeout, milliseconds(800));
}

TEST_F(AgentConfigTest, ErrorsInIncludedFilesNameThatFile) {
  Write("agent.yaml", "include: [targets.d/*.yaml]\n");
  Write("targets.d/bad.yaml", "targets:\n  - name: a\n    probe: http\n    interval: often\n    http: {url: 'http://x/'}\n");
  auto cfg = Load();
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().find("bad.yaml:4:15: targets[0].interval: expected a duration like 30s"),
            std::string::npos)
      << cfg.error();
}

TEST_F(AgentConfigTest, ReportsEveryProblemNotJustTheFirst) {
  Write("agent.yaml",
        "agent: {listen: nowhere, colour: blue}\n"
        "targets:\n"
        "  - {name: a, probe: http, interval: x, http: {url: 'http://x/'}}\n"
        "  - {name: b, probe: http}\n");
  auto cfg = Load();
  ASSERT_FALSE(cfg.ok());
  int lines = 0;
  for (char c : cfg.error()) lines += c == '\n';
  EXPECT_EQ(lines, 4) << cfg.error();
}

TEST_F(AgentConfigTest, TargetFileAsPlainList) {
  Write("list.yaml", "- {name: x, probe: http, http: {url: 'http://x/'}}\n- {name: y, probe: http, http: {url: 'http://y/'}}\n");
  auto t = LoadTargetFile((dir_ / "list.yaml").string(), registry_, {});
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->size(), 2u);
  Write("dup.yaml", "- {name: x, probe: http, http: {url: 'http://x/'}}\n- {name: x, probe: http, http: {url: 'http://y/'}}\n");
  auto d = LoadTargetFile((dir_ / "dup.yaml").string(), registry_, {});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("duplicate target name \"x\""), std::string::npos);
}

}  // namespace
}  // namespace calprobe::core
