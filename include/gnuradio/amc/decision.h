/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_DECISION_H
#define INCLUDED_AMC_DECISION_H

#include <gnuradio/amc/api.h>
#include <gnuradio/sync_block.h>
#include <cstdint>
#include <string>
#include <vector>

namespace gr {
namespace amc {

/*!
 * \brief Turns per-window class probabilities into a stable decision: smoothing,
 * hysteresis, a confidence threshold ("unknown") and an energy gate ("noise").
 * \ingroup amc
 *
 * \details
 * Input: one probability vector per window (length = number of classes), as
 * amc.classifier writes them. Output: the smoothed probabilities, one vector per
 * input vector.
 *
 * Smoothing over \p k windows: "moving_average" (mean of the last k vectors),
 * "geometric" (their geometric mean, normalised to sum 1: a class must be likely
 * in every window, so a steady runner-up gains less than with the mean),
 * "exponential" (weight 2 / (k + 1) for the newest), or "none".
 * Decision: the class c of highest smoothed probability p_c is taken when p_c is
 * at least \p threshold and, if another class d is current, when p_c exceeds p_d
 * by more than \p hysteresis. The current class is kept until then, unless p_d falls
 * below threshold - hysteresis, which makes the decision "unknown".
 *
 * No decision is taken before the smoothing window is full: k windows (1 with
 * "none") after the start, after a gap and after a retune, so that a start-up
 * transient or a single window cannot decide alone.
 * Windows are skipped (not smoothed, counted by skipped_windows()) when their
 * vector is all zeros or not finite, or when they carry an \c amc_flag tag (the
 * vectorizer's NaN/Inf and silent windows, the classifier's dropped ones); a skipped
 * window is a gap and restarts the smoothing. An \c rx_time tag (a source's start,
 * or its report of lost samples) restarts it too; an \c rx_freq tag (a retune), or an
 * \c amc_retune tag (amc.normalizer's new setting), also makes the decision "unknown"
 * until k windows of the new signal are in.
 * With \p energy_gate, a window whose \c amc_power tag (window power in dB, from
 * amc.vectorizer with power tags on) is below \p noise_db makes the decision
 * "noise" and clears the smoothing history.
 *
 * Where the decision changes, the output item gets the tag \c amc_decision, a
 * dict {label, index (-1 unknown, -2 noise), confidence, offset}; offset is the
 * window's first sample (its \c amc_window tag; the item number without one).
 * The same dict, with the number of windows seen, leaves on the message port
 * \c decision on every change and, when \p report_every > 0, every report_every
 * windows; at most \p max_rate messages per second (0: no limit); messages held
 * back by the limit are counted (suppressed_messages()), and the last of them is
 * sent with the first window after the limit allows, or at stop(). GNU Radio hands
 * a message sent at stop() only to receivers still running, so where every change
 * of a finite stream must arrive, read the amc_decision tags or set max_rate 0.
 *
 * A vector is a probability vector when every entry is in [0, 1] (to 1e-3) and
 * they sum to 1 (to 1e-2); any other vector is skipped like a flagged one, with a
 * warning on the block's logger, and never reported as a confidence.
 *
 * threshold, hysteresis, k and max_rate can be changed while the flowgraph runs
 * (GRC callbacks); a new k restarts the smoothing.
 */
class AMC_API decision : virtual public gr::sync_block
{
public:
    typedef std::shared_ptr<decision> sptr;

    //! Largest k: the moving average keeps k vectors.
    static constexpr int max_k = 1 << 16;

    /*!
     * \param classes Class names, in the order of the probability vector (>= 2).
     * \param smoothing "geometric" (default), "moving_average", "exponential" or "none".
     * \param k Windows smoothed over (1 .. max_k).
     * \param threshold Smoothed probability below which the decision is unknown, in
     *        [0, 1].
     * \param hysteresis Margin a new class must win by, in [0, 1).
     * \param energy_gate Report "noise" for windows whose amc_power is below noise_db.
     * \param noise_db Energy gate level in dB (10 log10 of mean |x|^2 of the window).
     * \param report_every Also send a message every this many windows (0: on changes
     *        only).
     * \param max_rate Messages per second at most (0: no limit).
     *
     * \note Throws std::invalid_argument naming the parameter when out of range.
     */
    static sptr make(const std::vector<std::string>& classes,
                     const std::string& smoothing = "geometric",
                     int k = 8,
                     float threshold = 0.5,
                     float hysteresis = 0.1,
                     bool energy_gate = false,
                     float noise_db = -60.0,
                     int report_every = 0,
                     double max_rate = 10.0);

    //! Smoothed probability below which the decision is unknown, in [0, 1].
    virtual float threshold() = 0;
    virtual void set_threshold(float threshold) = 0;
    //! Margin a new class must win by, in [0, 1).
    virtual float hysteresis() = 0;
    virtual void set_hysteresis(float hysteresis) = 0;
    //! Windows smoothed over; setting it restarts the smoothing.
    virtual int k() = 0;
    virtual void set_k(int k) = 0;
    //! Messages per second at most (0: no limit).
    virtual double max_rate() = 0;
    virtual void set_max_rate(double max_rate) = 0;

    //! Class names in probability order.
    virtual std::vector<std::string> classes() const = 0;
    //! The current decision: a class name, "unknown" or "noise".
    virtual std::string label() const = 0;
    //! Smoothed probability of the current class (0 for unknown and noise).
    virtual float confidence() const = 0;
    //! Probability vectors read so far.
    virtual uint64_t windows_seen() const = 0;
    //! Times the decision changed.
    virtual uint64_t decisions() const = 0;
    //! Windows whose decision was unknown.
    virtual uint64_t unknown_windows() const = 0;
    //! Windows gated as noise.
    virtual uint64_t noise_windows() const = 0;
    //! Windows skipped (flagged, all-zero or non-finite vectors).
    virtual uint64_t skipped_windows() const = 0;
    //! Messages sent on the decision port.
    virtual uint64_t messages() const = 0;
    //! Messages held back by max_rate.
    virtual uint64_t suppressed_messages() const = 0;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_DECISION_H */
