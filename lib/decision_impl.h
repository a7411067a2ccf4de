/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_DECISION_IMPL_H
#define INCLUDED_AMC_DECISION_IMPL_H

#include <gnuradio/amc/decision.h>
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

namespace gr {
namespace amc {

class decision_impl : public decision
{
public:
    static constexpr int k_unknown = -1;
    static constexpr int k_noise = -2;

private:
    enum class smoothing_kind { none, moving_average, exponential, geometric };

    const std::vector<std::string> d_classes;
    const size_t d_nclasses;
    const smoothing_kind d_smoothing;
    // settable while running: changed and read under d_setlock (work() holds it)
    int d_k;
    float d_threshold, d_hysteresis;
    double d_max_rate;
    double d_min_interval; // seconds between messages (0: any)
    const bool d_energy_gate;
    const float d_noise_db;
    const int d_report_every;
    const pmt::pmt_t d_port;

    // smoothing state
    std::vector<float> d_history; // moving average: ring of k vectors (geometric: logs)
    std::vector<double> d_sum;    // their sum
    int d_filled = 0, d_next = 0;
    int d_run = 0; // windows smoothed since the last reset (start, gap, retune)
    std::vector<float> d_smoothed;

    int d_current = k_unknown;
    float d_current_conf = 0.0f;
    mutable std::mutex d_mutex; // guards d_current and d_current_conf for readers
    uint64_t d_since_report = 0;
    std::chrono::steady_clock::time_point d_last_message;
    bool d_sent_any = false;
    bool d_pending = false; // a message was held back by the rate limit
    pmt::pmt_t d_pending_msg;
    uint64_t d_bad_vectors = 0; // not probability vectors (warned about, skipped)

    std::atomic<uint64_t> d_seen{ 0 }, d_changes{ 0 }, d_unknown{ 0 }, d_noise{ 0 },
        d_skipped{ 0 }, d_messages{ 0 }, d_suppressed{ 0 };

    void reset_history();
    //! Probability vectors: entries in [0, 1], summing to 1 (both within rounding).
    bool is_probability(const float* p) const;
    void publish(const pmt::pmt_t& msg);
    void smooth(const float* p);
    //! A decision needs a full smoothing window: k windows since the last reset.
    bool settled() const;
    //! The decision after smoothing: keeps, switches, or gives up the current class.
    int decide() const;
    std::string name_of(int index) const;
    pmt::pmt_t describe(int index, float conf, uint64_t offset) const;
    bool may_send() const;
    //! Publishes the decision unless the rate limit holds it back.
    void send(int index, float conf, uint64_t offset);

public:
    decision_impl(const std::vector<std::string>& classes,
                  const std::string& smoothing,
                  int k,
                  float threshold,
                  float hysteresis,
                  bool energy_gate,
                  float noise_db,
                  int report_every,
                  double max_rate);

    float threshold() override;
    void set_threshold(float threshold) override;
    float hysteresis() override;
    void set_hysteresis(float hysteresis) override;
    int k() override;
    void set_k(int k) override;
    double max_rate() override;
    void set_max_rate(double max_rate) override;
    bool stop() override;

    std::vector<std::string> classes() const override { return d_classes; }
    std::string label() const override;
    float confidence() const override;
    uint64_t windows_seen() const override { return d_seen.load(); }
    uint64_t decisions() const override { return d_changes.load(); }
    uint64_t unknown_windows() const override { return d_unknown.load(); }
    uint64_t noise_windows() const override { return d_noise.load(); }
    uint64_t skipped_windows() const override { return d_skipped.load(); }
    uint64_t messages() const override { return d_messages.load(); }
    uint64_t suppressed_messages() const override { return d_suppressed.load(); }

    int work(int noutput_items,
             gr_vector_const_void_star& input_items,
             gr_vector_void_star& output_items) override;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_DECISION_IMPL_H */
