#include "probes/scenario/metrics.h"

namespace calprobe::probes::scenario {

void InstallScenarioMetrics(core::MetricsRegistry& metrics, core::EventPipeline& pipeline) {
  using core::Label;
  auto& duration = metrics.Gauge("calprobe_scenario_step_duration_seconds",
                                 "Duration of the last run of each scenario step.",
                                 {"target", "scenario", "step", "phase"});
  auto& success = metrics.Gauge("calprobe_scenario_step_success",
                                "1 if the last run of the step passed (or was skipped), else 0.",
                                {"target", "scenario", "step", "phase"});
  auto& runs = metrics.Counter("calprobe_scenario_step_runs_total",
                               "Scenario step runs by status (passed, failed, error, skipped).",
                               {"target", "scenario", "step", "phase", "status"});
  auto& measure = metrics.Gauge("calprobe_scenario_measure_seconds",
                                "Last value of a named step duration (measure: in the scenario).",
                                {"target", "scenario", "measure"});
  auto& journeys =
      metrics.Counter("calprobe_scenario_runs_total", "Journeys by result (success, failure).",
                      {"target", "scenario", "result"});
  pipeline.Subscribe([&](const core::Event& e) {
    if (e.name == "calprobe.scenario.step") {
      std::string target = e.labels.Get(Label::kTarget);
      std::string sc(e.String("scenario").value_or(""));
      std::string step(e.String("step").value_or(""));
      std::string phase(e.String("phase").value_or(""));
      std::string status(e.String("status").value_or(""));
      double seconds = e.Number("duration_ms").value_or(0) / 1000;
      duration.Set({target, sc, step, phase}, seconds);
      success.Set({target, sc, step, phase}, status == "passed" || status == "skipped" ? 1 : 0);
      runs.Inc({target, sc, step, phase, status});
      if (auto m = e.String("measure"); m && status == "passed") {
        measure.Set({target, sc, std::string(*m)}, seconds);
      }
    } else if (e.name == "calprobe.scenario.run") {
      journeys.Inc({e.labels.Get(Label::kTarget), std::string(e.String("scenario").value_or("")),
                    e.Bool("success").value_or(false) ? "success" : "failure"});
    }
  });
}

}  // namespace calprobe::probes::scenario
