// ParseScenario: reading and validating a scenario file (scenario.h).

#include <algorithm>
#include <regex>

#include "core/secrets.h"
#include "probes/feasibility/feasibility_probe.h"
#include "probes/scenario/scenario.h"

namespace calprobe::probes::scenario {
namespace {

using core::ConfigNode;

// Variables a step may use: declared vars, builtins and captures so far.
struct Scope {
  std::set<std::string, std::less<>> names;
  bool Has(std::string_view n) const { return IsBuiltinVariable(n) || names.count(n) > 0; }
  // The closest declared name, if it is a plausible typo of `n`.
  std::string Suggest(std::string_view n) const {
    std::string best;
    size_t best_d = 3;
    for (const auto& k : names) {
      std::vector<size_t> prev(k.size() + 1), cur(k.size() + 1);
      for (size_t j = 0; j <= k.size(); ++j) prev[j] = j;
      for (size_t i = 1; i <= n.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= k.size(); ++j) {
          cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (n[i - 1] != k[j - 1])});
        }
        std::swap(prev, cur);
      }
      size_t d = prev[k.size()];
      if (d < best_d && d * 3 <= n.size()) {
        best_d = d;
        best = k;
      }
    }
    return best;
  }
};

class Parser {
 public:
  Parser(const Vars& overrides, const core::TargetInfo& target)
      : overrides_(overrides), target_(target) {}

  std::optional<Scenario> Run(const ConfigNode& root) {
    if (!root.IsMap()) {
      root.Error("a scenario file is a mapping with scenario:, vars:, steps: and cleanup:");
      return std::nullopt;
    }
    size_t before = root.errors()->size();
    Scenario s;
    for (const char* k : {"description", "vars", "secrets", "lock", "cleanup_timeout", "cleanup"}) {
      (void)root[k];
    }
    s.file = root.file();
    s.name = root.RequiredString("scenario");
    s.description = root.String("description", "");
    ConfigNode vars = root["vars"];
    if (vars.ExpectMap()) {
      for (const auto& k : vars.Keys()) {
        auto v = vars[k].raw().IsNull() ? std::optional<std::string>("") : vars[k].AsString();
        s.vars[k] = v.value_or("");
        if (auto it = overrides_.find(k); it != overrides_.end()) s.vars[k] = it->second;
        scope_.names.insert(k);
      }
    }
    for (const auto& name : root.StringList("secrets")) {
      if (!s.vars.count(name))
        root["secrets"].Error("\"" + name + "\" is not declared under vars:");
      s.secret_vars.insert(name);
    }
    for (const auto& [k, v] : s.vars) {
      if (s.secret_vars.count(k) || core::Secrets::LooksSecret(k)) core::Secrets::Register(v);
    }
    vars_ = &s.vars;
    s.cleanup_timeout = root.Duration("cleanup_timeout", s.cleanup_timeout);
    if (root.Has("lock")) {
      if (auto t = ReadTemplate(root["lock"])) {
        auto r = t->Render(s.vars, {});
        if (r.ok())
          s.lock = *r;
        else
          root["lock"].Error(r.error());
      }
    }
    ConfigNode steps = root["steps"];
    if (!steps.IsSequence() || steps.size() == 0) {
      (steps.defined() ? steps : root).Error("a scenario needs a non-empty steps: list");
    } else {
      ReadSteps(steps, &s.steps);
    }
    ConfigNode cleanup = root["cleanup"];
    if (cleanup.defined()) {
      if (!cleanup.IsSequence()) {
        cleanup.Error("expected a list of steps");
      } else {
        ReadSteps(cleanup, &s.cleanup);
      }
    }
    root.RejectUnknownKeys();
    if (root.errors()->size() != before) return std::nullopt;
    return s;
  }

 private:
  void ReadSteps(const ConfigNode& list, std::vector<Step>* out) {
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      ConfigNode n = list.At(i);
      if (!n.ExpectMap()) continue;
      Step step = ReadStep(n);
      if (!step.name.empty() && !names.insert(step.name).second) {
        n["name"].Error("duplicate step name \"" + step.name + "\"");
      }
      out->push_back(std::move(step));
    }
  }

  // Checks every variable of `t` is in scope; records an error on `n`.
  void CheckVars(const ConfigNode& n, const std::vector<std::string>& used, Step* step) {
    for (const auto& v : used) {
      step->uses.insert(v);
      if (scope_.Has(v)) continue;
      std::string hint = scope_.Suggest(v);
      n.Error("undefined variable \"{{" + v + "}}\"" +
              (hint.empty() ? "" : "; did you mean \"" + hint + "\"?") +
              " (declare it under vars: or capture it in an earlier step)");
    }
  }

  std::optional<TextTemplate> ReadTemplate(const ConfigNode& n, Step* step = nullptr) {
    auto s = n.AsString();
    if (!s) return std::nullopt;
    auto t = TextTemplate::Parse(*s);
    if (!t.ok()) {
      n.Error(t.error());
      return std::nullopt;
    }
    if (step) CheckVars(n, t->Variables(), step);
    return std::move(t.value());
  }

  static nlohmann::json YamlToJson(const YAML::Node& y) {
    if (y.IsMap()) {
      nlohmann::json o = nlohmann::json::object();
      for (auto it = y.begin(); it != y.end(); ++it) o[it->first.Scalar()] = YamlToJson(it->second);
      return o;
    }
    if (y.IsSequence()) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : y) a.push_back(YamlToJson(e));
      return a;
    }
    if (!y.IsScalar()) return nullptr;
    if (y.Tag() == "!") return y.Scalar();  // quoted: always a string
    std::string s = y.Scalar();
    if (s == "null" || s == "~") return nullptr;
    return TypedValue(s);
  }

  std::optional<JsonTemplate> ReadJsonTemplate(const ConfigNode& n, Step* step) {
    auto t = JsonTemplate::Parse(YamlToJson(n.raw()));
    if (!t.ok()) {
      n.Error(t.error());
      return std::nullopt;
    }
    CheckVars(n, t->Variables(), step);
    return std::move(t.value());
  }

  void ReadRequest(const ConfigNode& n, Step* step, bool match_keys = false) {
    if (!n.ExpectMap()) {
      if (!n.defined()) n.Error("expected a mapping with url: (and method:, headers:, body:)");
      return;
    }
    RequestTemplate& r = step->request;
    if (auto u = ReadTemplate(n["url"], step))
      r.url = std::move(*u);
    else if (!n.Has("url"))
      n.Error("missing required key \"url\"");
    r.method = n.String("method", "GET");
    static const char* kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    if (std::none_of(std::begin(kMethods), std::end(kMethods),
                     [&](const char* m) { return r.method == m; })) {
      n["method"].Error("unsupported method \"" + r.method +
                        "\" (GET, HEAD, POST, PUT, PATCH, DELETE)");
    }
    ConfigNode h = n["headers"];
    if (h.ExpectMap()) {
      for (const auto& k : h.Keys()) {
        if (auto t = ReadTemplate(h[k], step)) r.headers.emplace_back(k, std::move(*t));
      }
    }
    ConfigNode body = n["body"];
    if (body.defined()) {
      if (body.IsScalar())
        r.body_text = ReadTemplate(body, step);
      else
        r.body_json = ReadJsonTemplate(body, step);
    }
    r.timeout = n.Duration("timeout", r.timeout);
    if (match_keys) (void)n["uid"], (void)n["start"];  // read by the caller
    n.RejectUnknownKeys();
  }

  static bool ValidPointer(const std::string& p) {
    if (!p.empty() && p[0] != '/') return false;
    try {
      nlohmann::json::json_pointer ptr(p);
      return true;
    } catch (...) {
      return false;
    }
  }

  void ReadPointer(const ConfigNode& n, std::string* out) {
    auto s = n.AsString();
    if (!s) return;
    if (!ValidPointer(*s)) {
      n.Error("bad JSON pointer \"" + *s +
              "\"; a pointer starts with / (RFC 6901), e.g. /slots/0/start");
      return;
    }
    *out = *s;
  }

  std::optional<std::regex> ReadRegex(const ConfigNode& n, std::string* text) {
    auto s = n.AsString();
    if (!s) return std::nullopt;
    try {
      *text = *s;
      return std::regex(*s, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      n.Error("invalid regular expression: " + std::string(e.what()));
      return std::nullopt;
    }
  }

  void ReadExpect(const ConfigNode& n, Step* step) {
    if (!n.ExpectMap()) return;
    for (const char* k : {"status", "latency", "body_matches", "headers", "json"}) (void)n[k];
    Expect& e = step->expect;
    ConfigNode status = n["status"];
    if (status.IsSequence()) {
      for (size_t i = 0; i < status.size(); ++i) {
        if (auto v = status.At(i).AsInt(100, 599)) e.status.push_back(static_cast<int>(*v));
      }
    } else if (status.defined()) {
      if (auto v = status.AsInt(100, 599)) e.status.push_back(static_cast<int>(*v));
    }
    if (n.Has("latency")) e.latency = n.Duration("latency", {});
    if (n.Has("body_matches")) e.body_matches = ReadRegex(n["body_matches"], &e.body_matches_text);
    ConfigNode hs = n["headers"];
    if (hs.ExpectMap()) {
      for (const auto& k : hs.Keys()) {
        std::string text;
        if (auto re = ReadRegex(hs[k], &text)) {
          std::string lower = k;
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          e.headers.emplace_back(lower, std::move(*re));
          e.header_texts.push_back(text);
        }
      }
    }
    ConfigNode json = n["json"];
    if (json.defined() && !json.IsSequence()) {
      json.Error("expected a list of {pointer, equals|exists|matches|contains|lacks}");
    }
    for (size_t i = 0; json.IsSequence() && i < json.size(); ++i) {
      ConfigNode c = json.At(i);
      if (!c.ExpectMap()) continue;
      JsonCheck jc;
      if (c.Has("pointer"))
        ReadPointer(c["pointer"], &jc.pointer);
      else
        c.Error("missing required key \"pointer\"");
      int kinds = 0;
      auto value = [&](std::string_view key, JsonCheck::Kind kind) {
        if (!c.Has(key)) return;
        ++kinds;
        jc.kind = kind;
        ConfigNode v = c[key];
        auto t = ReadJsonTemplate(v, step);
        if (t) jc.templ = std::move(*t);
      };
      value("equals", JsonCheck::Kind::kEquals);
      value("contains", JsonCheck::Kind::kContains);
      value("lacks", JsonCheck::Kind::kLacks);
      if (c.Has("exists")) {
        ++kinds;
        jc.kind = c["exists"].AsBool().value_or(true) ? JsonCheck::Kind::kExists
                                                      : JsonCheck::Kind::kMissing;
      }
      if (c.Has("matches")) {
        ++kinds;
        jc.kind = JsonCheck::Kind::kMatches;
        jc.regex = ReadRegex(c["matches"], &jc.regex_text);
      }
      if (kinds != 1) c.Error("give exactly one of equals, exists, matches, contains, lacks");
      c.RejectUnknownKeys();
      e.json.push_back(std::move(jc));
    }
    n.RejectUnknownKeys();
  }

  void ReadCaptures(const ConfigNode& n, Step* step) {
    if (!n.ExpectMap()) return;
    for (const auto& var : n.Keys()) {
      ConfigNode c = n[var];
      Capture cap;
      cap.var = var;
      if (c.IsScalar()) {
        ReadPointer(c, &cap.json_pointer);
      } else if (c.ExpectMap()) {
        if (c.Has("json")) ReadPointer(c["json"], &cap.json_pointer);
        if (c.Has("header")) {
          cap.header = c.String("header");
          for (char& ch : cap.header)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        if (c.Has("json") == c.Has("header"))
          c.Error("give exactly one of json: (a pointer) or header:");
        cap.secret = c.Bool("secret", false);
        cap.optional = c.Bool("optional", false);
        c.RejectUnknownKeys();
      }
      if (cap.secret || core::Secrets::LooksSecret(var)) cap.secret = true;
      pending_captures_.push_back(var);
      step->captures.push_back(std::move(cap));
    }
  }

  void ReadEmit(const ConfigNode& list, Step* step) {
    if (!list.IsSequence()) {
      list.Error("expected a list of {event, fields, labels}");
      return;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      ConfigNode n = list.At(i);
      if (!n.ExpectMap()) continue;
      EmitSpec e;
      e.event = n.RequiredString("event");
      ConfigNode f = n["fields"];
      if (f.ExpectMap()) {
        for (const auto& k : f.Keys()) {
          ConfigNode v = f[k];
          std::string raw = v.raw().IsScalar() ? v.raw().Scalar() : "";
          if (raw.find("{{") != std::string::npos) {
            if (auto t = ReadTemplate(v, step)) e.fields.emplace_back(k, std::move(*t));
          } else if (v.IsScalar()) {
            e.literal_fields.emplace_back(k, YamlToJson(v.raw()));
          } else {
            v.Error("event fields are scalars (string, number, bool)");
          }
        }
      }
      ConfigNode l = n["labels"];
      if (l.ExpectMap()) {
        for (const auto& k : l.Keys()) {
          auto label = core::LabelFromName(k);
          if (!label || (*label != core::Label::kProvider && *label != core::Label::kRole &&
                         *label != core::Label::kSrcId)) {
            l[k].Error("scenario events may set the labels provider, role and src_id");
            continue;
          }
          if (auto t = ReadTemplate(l[k], step)) e.labels.emplace_back(*label, std::move(*t));
        }
      }
      n.RejectUnknownKeys();
      step->emit.push_back(std::move(e));
    }
  }

  // Substitutes the scenario's vars into every scalar of a copy of `y`,
  // leaving other placeholders (the feasibility probe's own {{from}}, …).
  YAML::Node BindVars(const YAML::Node& y) {
    YAML::Node out = YAML::Clone(y);
    static const std::regex kPlaceholder(R"(\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\})");
    std::function<void(YAML::Node)> walk = [&](YAML::Node n) {
      if (n.IsScalar()) {
        std::string s = n.Scalar(), result;
        auto begin = std::sregex_iterator(s.begin(), s.end(), kPlaceholder);
        size_t last = 0;
        for (auto it = begin; it != std::sregex_iterator(); ++it) {
          auto v = vars_->find((*it)[1].str());
          result += s.substr(last, it->position() - last);
          result += v != vars_->end() ? v->second : it->str();
          last = it->position() + it->length();
        }
        if (last) n = result + s.substr(last);
      } else if (n.IsMap()) {
        for (auto it = n.begin(); it != n.end(); ++it) walk(it->second);
      } else if (n.IsSequence()) {
        for (auto e : n) walk(e);
      }
    };
    walk(out);
    return out;
  }

  Step ReadStep(const ConfigNode& n) {
    Step step;
    step.line = n.raw().Mark().line + 1;
    // Every key a step may have is "known", so a typo gets a did-you-mean.
    for (const char* k :
         {"name", "when", "request", "wait", "wait_until", "feasibility_check", "ics_fetch",
          "ics_contains", "ics_lacks", "capture", "expect", "poll_until", "emit", "measure"}) {
      (void)n[k];
    }
    step.name = n.RequiredString("name");
    pending_captures_.clear();
    static const std::pair<const char*, StepKind> kKinds[] = {
        {"request", StepKind::kRequest},    {"wait", StepKind::kWait},
        {"wait_until", StepKind::kWait},    {"feasibility_check", StepKind::kFeasibility},
        {"ics_fetch", StepKind::kIcsFetch}, {"ics_contains", StepKind::kIcsContains},
        {"ics_lacks", StepKind::kIcsLacks}};
    int kinds = 0;
    for (const auto& [key, kind] : kKinds) {
      if (n.Has(key)) {
        ++kinds;
        step.kind = kind;
      }
    }
    if (kinds != 1) {
      n.Error(
          "a step has exactly one of request, wait, wait_until, feasibility_check, ics_fetch, "
          "ics_contains, ics_lacks");
    }
    if (n.Has("when")) step.when = ReadTemplate(n["when"], &step);
    switch (step.kind) {
      case StepKind::kRequest:
        ReadRequest(n["request"], &step);
        break;
      case StepKind::kWait:
        if (n.Has("wait")) step.wait = n.Duration("wait", {});
        if (n.Has("wait_until")) step.wait_until = ReadTemplate(n["wait_until"], &step);
        break;
      case StepKind::kFeasibility: {
        ConfigNode f = n["feasibility_check"];
        bool skipped = false;
        if (step.when) {
          auto w = step.when->Render(*vars_, {});
          skipped = w.ok() && IsFalsy(*w);
        }
        if (!skipped) {
          ConfigNode bound(BindVars(f.raw()), std::make_shared<const std::string>(f.file()),
                           f.path(), f.errors());
          auto probe = feasibility::NewFactory()->Create(bound, target_);
          step.feasibility = std::shared_ptr<core::Probe>(std::move(probe));
        } else {
          (void)f;  // not bound: its when: is false for these vars
        }
        break;
      }
      case StepKind::kIcsFetch:
      case StepKind::kIcsContains:
      case StepKind::kIcsLacks: {
        ConfigNode k = n[step.kind == StepKind::kIcsFetch      ? "ics_fetch"
                         : step.kind == StepKind::kIcsContains ? "ics_contains"
                                                               : "ics_lacks"];
        if (!k.ExpectMap()) {
          if (!k.defined()) k.Error("expected a mapping with url:");
          break;
        }
        if (step.kind != StepKind::kIcsFetch) {
          if (k.Has("uid")) step.match.uid = ReadTemplate(k["uid"], &step);
          if (k.Has("start")) step.match.start = ReadTemplate(k["start"], &step);
          if (!k.Has("uid") && !k.Has("start"))
            k.Error("give uid:, start: or both to identify the event");
        }
        // The rest of the mapping is the feed request.
        ReadRequest(k, &step, /*match_keys=*/true);
        break;
      }
    }
    // The step's own captures are usable by its expectations and events
    // (captures are applied before the answer is judged), and by every
    // later step and cleanup step.
    if (n.Has("capture")) ReadCaptures(n["capture"], &step);
    for (const auto& v : pending_captures_) scope_.names.insert(v);
    if (n.Has("expect")) ReadExpect(n["expect"], &step);
    if (n.Has("poll_until")) {
      ConfigNode p = n["poll_until"];
      if (p.ExpectMap()) {
        Poll poll;
        poll.interval = p.Duration("interval", poll.interval);
        poll.deadline = p.Duration("deadline", poll.deadline);
        if (poll.interval.count() <= 0) p["interval"].Error("must be positive");
        if (poll.deadline < poll.interval) p["deadline"].Error("must be at least the interval");
        p.RejectUnknownKeys();
        step.poll = poll;
      }
    }
    if (n.Has("emit")) ReadEmit(n["emit"], &step);
    step.measure = n.String("measure", "");
    n.RejectUnknownKeys();
    return step;
  }

  const Vars& overrides_;
  const core::TargetInfo& target_;
  Scope scope_;
  const Vars* vars_ = nullptr;
  std::vector<std::string> pending_captures_;
};

}  // namespace

std::string_view StepKindName(StepKind k) {
  switch (k) {
    case StepKind::kRequest:
      return "request";
    case StepKind::kWait:
      return "wait";
    case StepKind::kFeasibility:
      return "feasibility_check";
    case StepKind::kIcsFetch:
      return "ics_fetch";
    case StepKind::kIcsContains:
      return "ics_contains";
    case StepKind::kIcsLacks:
      return "ics_lacks";
  }
  return "?";
}

bool IsFalsy(std::string_view s) { return s.empty() || s == "false" || s == "0"; }

std::optional<Scenario> ParseScenario(const core::ConfigNode& root, const Vars& overrides,
                                      const core::TargetInfo& target) {
  return Parser(overrides, target).Run(root);
}

}  // namespace calprobe::probes::scenario
