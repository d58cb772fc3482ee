// `calprobe export-rules --format prometheus [--config AGENT.yaml |
// --rules FILE... [--no-builtin]] [--multi-region N] [-o FILE]`: the agent's
// alert rules as Prometheus alerting rules over the calprobe_rule_* series
// the agent exports for them (docs/prometheus.md). Exit 0; 2 on usage or
// config errors.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "core/config/agent_config.h"
#include "core/rules/promql.h"
#include "core/rules/rule_config.h"
#include "probes/builtin.h"

namespace calprobe::app {
namespace {

struct ExportArgs {
  std::string format;
  std::string config;
  std::vector<std::string> rules;
  bool no_builtin = false;
  int multi_region = 0;
  std::string output;
  std::string runbook_base_url;
  bool no_keep_firing_for = false;
};

int Usage(const std::string& message) {
  std::cerr << "export-rules: " << message << "\n";
  return kExitUsage;
}

// Writes `text` to `path` through a temporary file, so a failed write never
// leaves half a rules file where Prometheus reads it.
bool WriteFile(const std::string& path, const std::string& text, std::string* error) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text) || !out.flush()) {
      *error = path + ": cannot write (" + tmp + ")";
      std::remove(tmp.c_str());
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    *error = path + ": cannot write: " + ec.message();
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

int RunExport(const ExportArgs& a) {
  if (a.format != "prometheus") {
    return Usage("--format: unknown format \"" + a.format + "\" (supported: prometheus)");
  }
  if (!a.config.empty() && (!a.rules.empty() || a.no_builtin)) {
    return Usage(
        "--config takes the rules from the agent config (alerts.builtin, alerts.rule_files); "
        "do not combine it with --rules or --no-builtin");
  }
  if (a.no_builtin && a.rules.empty()) {
    return Usage("--no-builtin without --rules leaves no rules to export");
  }
  if (a.multi_region < 0 || a.multi_region == 1) {
    return Usage("--multi-region: expected the minimum number of regions (2 or more), got " +
                 std::to_string(a.multi_region));
  }
  bool builtin = !a.no_builtin;
  std::vector<std::string> files = a.rules;
  std::string source;
  if (!a.config.empty()) {
    core::ProbeRegistry registry;
    probes::RegisterBuiltinProbes(registry);
    auto cfg = core::LoadAgentConfig(a.config, registry);
    if (!cfg.ok()) {
      std::cerr << cfg.error();
      return kExitUsage;
    }
    builtin = cfg->alerts.builtin;
    files = cfg->alerts.rule_files;
    source = "the alert rules of " + a.config;
  } else {
    source = builtin ? "the built-in rules (config/alerts.yaml, config/probe-alerts.yaml)" : "";
    for (const auto& f : files) source += (source.empty() ? "" : ", ") + f;
  }
  auto rules = core::rules::LoadRuleSet(builtin, files);
  if (!rules.ok()) {
    std::cerr << rules.error();
    if (!rules.error().empty() && rules.error().back() != '\n') std::cerr << "\n";
    return kExitUsage;
  }
  if (rules->empty())
    return Usage("no alert rules to export (alerts.builtin is false and no rule_files)");

  core::rules::PromExportOptions opt;
  opt.runbook_base_url = a.runbook_base_url;
  opt.multi_region = a.multi_region;
  opt.keep_firing_for = !a.no_keep_firing_for;
  opt.source = source;
  const std::string text = core::rules::RenderPrometheusRules(*rules, opt);

  size_t skipped = 0;
  for (const auto& r : *rules) {
    auto t = core::rules::TranslateRule(r, opt);
    if (!t.ok()) {
      std::cerr << "export-rules: " << r.name << " not exported: " << t.error() << "\n";
      ++skipped;
    } else {
      for (const auto& n : t->notes) std::cerr << "export-rules: " << r.name << ": " << n << "\n";
    }
  }
  if (a.output.empty() || a.output == "-") {
    std::cout << text;
  } else {
    std::string error;
    if (!WriteFile(a.output, text, &error)) return Usage(error);
  }
  std::cerr << "exported " << rules->size() - skipped << " of " << rules->size() << " alert rules"
            << (a.output.empty() || a.output == "-" ? "" : " to " + a.output) << "\n";
  return kExitOk;
}

}  // namespace

void AddExportRulesCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export-rules", "Print the alert rules as Prometheus alerting rules (docs/prometheus.md)");
  cmd->add_option("--format", a->format, "Output format: prometheus")->required();
  cmd->add_option("--config", a->config, "Agent config whose alerts section gives the rules");
  cmd->add_option("--rules", a->rules, "Rules files (added to the built-in rules)");
  cmd->add_flag("--no-builtin", a->no_builtin, "Leave out the built-in rules (with --rules)");
  cmd->add_option("--multi-region", a->multi_region,
                  "Add multi-region variants: a target's rule holding in at least N regions");
  cmd->add_option("-o,--output", a->output, "Write to this file (default: standard output)");
  cmd->add_option("--runbook-base-url", a->runbook_base_url,
                  "Prefix for the runbook_url annotation (e.g. a repository URL ending in /)");
  cmd->add_flag("--no-keep-firing-for", a->no_keep_firing_for,
                "Leave out keep_firing_for (Prometheus older than 2.42)");
  cmd->callback([a, action] { *action = [a] { return RunExport(*a); }; });
}

}  // namespace calprobe::app
