#include "probes/ics/options.h"

#include "probes/ics/credential_class.h"
#include "probes/ics/http_codes.h"

namespace calprobe::probes::ics {

using core::ConfigNode;

bool ReadOptions(const ConfigNode& n, const core::TargetInfo& target, Options* o) {
  if (!n.defined()) {
    n.Error("the ics probe needs options (at least url:)");
    return false;
  }
  if (!n.ExpectMap()) return false;
  size_t errors_before = n.errors()->size();
  std::string url = n.RequiredString("url");
  o->request.url = NormalizeFeedUrl(url);
  if (!url.empty() && o->request.url.rfind("http://", 0) != 0 &&
      o->request.url.rfind("https://", 0) != 0) {
    n["url"].Error("expected an http://, https:// or webcal:// URL, got \"" + url.substr(0, 80) +
                   "\"");
  }
  o->request.method = "GET";
  ConfigNode headers = n["headers"];
  if (headers.ExpectMap()) {
    for (const auto& k : headers.Keys()) {
      o->request.headers.emplace_back(k, headers[k].AsString().value_or(""));
    }
  }
  o->request.max_body_bytes = n.Bytes("max_body", 32 * 1024 * 1024);
  o->request.max_decompressed_bytes = n.Bytes("max_decompressed", 64 * 1024 * 1024);
  o->request.max_redirects = static_cast<int>(n.Int("max_redirects", 5, 0, 20));
  o->request.accept_compressed = true;
  ConfigNode tls = n["tls"];
  if (tls.ExpectMap()) {
    o->request.verify_tls = !tls.Bool("insecure_skip_verify", false);
    o->request.ca_file = tls.String("ca_file", "");
    tls.RejectUnknownKeys();
  }
  o->request.capture_certificates = o->request.url.rfind("https://", 0) == 0;

  o->mass_deletion_threshold = n.Double("mass_deletion_threshold", 0.5);
  if (o->mass_deletion_threshold <= 0 || o->mass_deletion_threshold > 1) {
    n["mass_deletion_threshold"].Error("expected a share in (0, 1], e.g. 0.5");
  }
  o->mass_deletion_min_events = static_cast<int>(n.Int("mass_deletion_min_events", 4, 1, 1000000));
  o->mass_deletion_confirmations =
      static_cast<int>(n.Int("mass_deletion_confirmations", 3, 1, 100));
  o->max_components = static_cast<size_t>(n.Int("max_components", 50000, 1, 10000000));

  o->credential_failure_streak =
      static_cast<int>(n.Int("credential_failure_streak", 3, 1, 1000));
  o->secret_url = n.Has("secret_url") ? n.Bool("secret_url", false)
                                      : LooksLikeSecretUrl(o->request.url);
  ConfigNode tiers = n["retry_tiers"];
  if (tiers.defined()) {
    if (!tiers.IsSequence() || tiers.size() == 0) {
      tiers.Error("expected a non-empty list of durations, e.g. [1m, 5m, 15m, 30m]");
    } else {
      o->retry_tiers.clear();
      for (size_t i = 0; i < tiers.size(); ++i) {
        auto d = tiers.At(i).AsDuration();
        if (!d) continue;
        if (!o->retry_tiers.empty() && *d < o->retry_tiers.back()) {
          tiers.At(i).Error("retry tiers must not decrease");
        }
        o->retry_tiers.push_back(*d);
      }
    }
  }
  n.RejectUnknownKeys();

  o->src_id = target.labels.Get(core::Label::kSrcId);
  if (o->src_id.empty()) o->src_id = target.name;
  o->provider = target.labels.Get(core::Label::kProvider);
  return n.errors()->size() == errors_before;
}

}  // namespace calprobe::probes::ics
