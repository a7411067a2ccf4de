/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "decision_impl.h"
#include <gnuradio/io_signature.h>
#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace gr {
namespace amc {

namespace {

void require(bool ok, const std::string& what)
{
    if (!ok) {
        throw std::invalid_argument("amc.decision: " + what);
    }
}

// PMT symbols interned once
const pmt::pmt_t k_window_key = pmt::mp("amc_window");
const pmt::pmt_t k_flag_key = pmt::mp("amc_flag");
const pmt::pmt_t k_power_key = pmt::mp("amc_power");
const pmt::pmt_t k_time_key = pmt::mp("rx_time");      // a source (re)start or a gap
const pmt::pmt_t k_freq_key = pmt::mp("rx_freq");      // a retune
const pmt::pmt_t k_renorm_key = pmt::mp("amc_retune"); // amc.normalizer's, likewise
const pmt::pmt_t k_decision_key = pmt::mp("amc_decision");
const pmt::pmt_t k_label_key = pmt::mp("label");
const pmt::pmt_t k_index_key = pmt::mp("index");
const pmt::pmt_t k_confidence_key = pmt::mp("confidence");
const pmt::pmt_t k_offset_key = pmt::mp("offset");
const pmt::pmt_t k_windows_key = pmt::mp("windows");

void check_k(int k)
{
    require(k >= 1 && k <= decision::max_k,
            "k " + std::to_string(k) + " must be in 1 .. " +
                std::to_string(decision::max_k));
}
void check_threshold(float threshold)
{
    require(threshold >= 0.0f && threshold <= 1.0f,
            "threshold " + std::to_string(threshold) + " must be in [0, 1]");
}
void check_hysteresis(float hysteresis)
{
    require(hysteresis >= 0.0f && hysteresis < 1.0f,
            "hysteresis " + std::to_string(hysteresis) + " must be in [0, 1)");
}
void check_max_rate(double max_rate)
{
    require(max_rate >= 0.0 && std::isfinite(max_rate),
            "max_rate " + std::to_string(max_rate) + " must be finite and >= 0");
}

size_t checked_size(const std::vector<std::string>& classes)
{
    require(classes.size() >= 2, "classes must name at least 2 classes");
    require(std::set<std::string>(classes.begin(), classes.end()).size() ==
                classes.size(),
            "classes must not repeat a name");
    for (const auto& c : classes) {
        require(!c.empty() && c != "unknown" && c != "noise",
                "classes must not hold an empty name, 'unknown' or 'noise'");
    }
    return classes.size();
}

} // namespace

decision::sptr decision::make(const std::vector<std::string>& classes,
                              const std::string& smoothing,
                              int k,
                              float threshold,
                              float hysteresis,
                              bool energy_gate,
                              float noise_db,
                              int report_every,
                              double max_rate)
{
    return gnuradio::make_block_sptr<decision_impl>(classes,
                                                    smoothing,
                                                    k,
                                                    threshold,
                                                    hysteresis,
                                                    energy_gate,
                                                    noise_db,
                                                    report_every,
                                                    max_rate);
}

decision_impl::decision_impl(const std::vector<std::string>& classes,
                             const std::string& smoothing,
                             int k,
                             float threshold,
                             float hysteresis,
                             bool energy_gate,
                             float noise_db,
                             int report_every,
                             double max_rate)
    : gr::sync_block("decision",
                     gr::io_signature::make(1, 1, sizeof(float) * checked_size(classes)),
                     gr::io_signature::make(1, 1, sizeof(float) * checked_size(classes))),
      d_classes(classes),
      d_nclasses(classes.size()),
      d_smoothing(smoothing == "moving_average" ? smoothing_kind::moving_average
                  : smoothing == "geometric"    ? smoothing_kind::geometric
                  : smoothing == "exponential"  ? smoothing_kind::exponential
                                                : smoothing_kind::none),
      d_k(k),
      d_threshold(threshold),
      d_hysteresis(hysteresis),
      d_max_rate(max_rate),
      d_min_interval(max_rate > 0 ? 1.0 / max_rate : 0.0),
      d_energy_gate(energy_gate),
      d_noise_db(noise_db),
      d_report_every(report_every),
      d_port(pmt::mp("decision")),
      d_sum(d_nclasses, 0.0),
      d_smoothed(d_nclasses, 0.0f)
{
    require(smoothing == "moving_average" || smoothing == "geometric" ||
                smoothing == "exponential" || smoothing == "none",
            "smoothing '" + smoothing +
                "' is not one of moving_average, geometric, exponential, none");
    check_k(k);
    check_threshold(threshold);
    check_hysteresis(hysteresis);
    require(std::isfinite(noise_db), "noise_db must be finite");
    require(report_every >= 0,
            "report_every " + std::to_string(report_every) + " must be >= 0");
    check_max_rate(max_rate);
    reset_history();
    message_port_register_out(d_port);
}

float decision_impl::threshold()
{
    gr::thread::scoped_lock guard(d_setlock);
    return d_threshold;
}

void decision_impl::set_threshold(float threshold)
{
    check_threshold(threshold);
    gr::thread::scoped_lock guard(d_setlock);
    d_threshold = threshold;
}

float decision_impl::hysteresis()
{
    gr::thread::scoped_lock guard(d_setlock);
    return d_hysteresis;
}

void decision_impl::set_hysteresis(float hysteresis)
{
    check_hysteresis(hysteresis);
    gr::thread::scoped_lock guard(d_setlock);
    d_hysteresis = hysteresis;
}

int decision_impl::k()
{
    gr::thread::scoped_lock guard(d_setlock);
    return d_k;
}

void decision_impl::set_k(int k)
{
    check_k(k);
    gr::thread::scoped_lock guard(d_setlock);
    if (k != d_k) {
        d_k = k;
        reset_history(); // a ring of the old k cannot hold the new one's average
    }
}

double decision_impl::max_rate()
{
    gr::thread::scoped_lock guard(d_setlock);
    return d_max_rate;
}

void decision_impl::set_max_rate(double max_rate)
{
    check_max_rate(max_rate);
    gr::thread::scoped_lock guard(d_setlock);
    d_max_rate = max_rate;
    d_min_interval = max_rate > 0 ? 1.0 / max_rate : 0.0;
}

bool decision_impl::stop()
{
    gr::thread::scoped_lock guard(d_setlock);
    if (d_pending) { // the rate limit held back the latest state: it is the last word
        publish(d_pending_msg);
        d_logger->debug(
            "sent the message held back by max_rate at the end of the stream");
    }
    if (d_bad_vectors > 0) {
        d_logger->warn("{:d} input vectors were not probability vectors and were skipped",
                       d_bad_vectors);
    }
    return true;
}

std::string decision_impl::label() const
{
    std::lock_guard<std::mutex> lock(d_mutex);
    return name_of(d_current);
}

float decision_impl::confidence() const
{
    std::lock_guard<std::mutex> lock(d_mutex);
    return d_current_conf;
}

std::string decision_impl::name_of(int index) const
{
    if (index == k_unknown) {
        return "unknown";
    }
    if (index == k_noise) {
        return "noise";
    }
    return d_classes[index];
}

void decision_impl::reset_history()
{
    if (d_smoothing == smoothing_kind::moving_average ||
        d_smoothing == smoothing_kind::geometric) {
        d_history.assign(static_cast<size_t>(d_k) * d_nclasses, 0.0f);
    }
    std::fill(d_sum.begin(), d_sum.end(), 0.0);
    std::fill(d_smoothed.begin(), d_smoothed.end(), 0.0f);
    d_filled = 0;
    d_next = 0;
    d_run = 0;
}

bool decision_impl::settled() const
{
    return d_run >= (d_smoothing == smoothing_kind::none ? 1 : d_k);
}

void decision_impl::smooth(const float* p)
{
    d_run++;
    switch (d_smoothing) {
    case smoothing_kind::none:
        std::copy(p, p + d_nclasses, d_smoothed.begin());
        break;
    case smoothing_kind::exponential: {
        // the first window starts the average instead of being diluted by zeros
        const float a = d_filled == 0 ? 1.0f : 2.0f / (d_k + 1.0f);
        for (size_t c = 0; c < d_nclasses; c++) {
            d_smoothed[c] += a * (p[c] - d_smoothed[c]);
        }
        d_filled = 1;
        break;
    }
    case smoothing_kind::moving_average:
    case smoothing_kind::geometric: {
        const bool geometric = d_smoothing == smoothing_kind::geometric;
        float* slot = &d_history[static_cast<size_t>(d_next) * d_nclasses];
        for (size_t c = 0; c < d_nclasses; c++) {
            // the floor keeps one window's zero from vetoing a class for k windows
            const float v = geometric ? std::log(std::max(p[c], 1e-6f)) : p[c];
            d_sum[c] += static_cast<double>(v) - slot[c];
            slot[c] = v;
        }
        d_next = (d_next + 1) % d_k;
        d_filled = std::min(d_filled + 1, d_k);
        if (d_next == 0) { // re-add now and then so rounding cannot accumulate
            std::fill(d_sum.begin(), d_sum.end(), 0.0);
            for (int i = 0; i < d_filled; i++) {
                for (size_t c = 0; c < d_nclasses; c++) {
                    d_sum[c] += d_history[static_cast<size_t>(i) * d_nclasses + c];
                }
            }
        }
        if (!geometric) {
            for (size_t c = 0; c < d_nclasses; c++) {
                d_smoothed[c] = static_cast<float>(d_sum[c] / d_filled);
            }
            break;
        }
        const double top = *std::max_element(d_sum.begin(), d_sum.end()) / d_filled;
        double total = 0.0;
        for (size_t c = 0; c < d_nclasses; c++) {
            d_smoothed[c] = static_cast<float>(std::exp(d_sum[c] / d_filled - top));
            total += d_smoothed[c];
        }
        for (size_t c = 0; c < d_nclasses; c++) {
            d_smoothed[c] = static_cast<float>(d_smoothed[c] / total);
        }
        break;
    }
    }
}

int decision_impl::decide() const
{
    const int best = static_cast<int>(
        std::max_element(d_smoothed.begin(), d_smoothed.end()) - d_smoothed.begin());
    const float p_best = d_smoothed[best];
    if (d_current < 0) {
        return p_best >= d_threshold ? best : k_unknown;
    }
    const float p_cur = d_smoothed[d_current];
    if (best != d_current && p_best >= d_threshold && p_best - p_cur > d_hysteresis) {
        return best;
    }
    if (p_cur < d_threshold - d_hysteresis) {
        return k_unknown;
    }
    return d_current;
}

pmt::pmt_t decision_impl::describe(int index, float conf, uint64_t offset) const
{
    pmt::pmt_t d = pmt::make_dict();
    d = pmt::dict_add(d, k_label_key, pmt::mp(name_of(index)));
    d = pmt::dict_add(d, k_index_key, pmt::from_long(index));
    d = pmt::dict_add(d, k_confidence_key, pmt::from_double(conf));
    d = pmt::dict_add(d, k_offset_key, pmt::from_uint64(offset));
    return d;
}

bool decision_impl::may_send() const
{
    return !d_sent_any || std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                        d_last_message)
                                  .count() >= d_min_interval;
}

void decision_impl::send(int index, float conf, uint64_t offset)
{
    const pmt::pmt_t msg = pmt::dict_add(
        describe(index, conf, offset), k_windows_key, pmt::from_uint64(d_seen.load()));
    if (!may_send()) {
        // the latest state goes out once the rate allows (or at stop()), so the last
        // word is right
        d_suppressed++;
        d_pending = true;
        d_pending_msg = msg;
        return;
    }
    publish(msg);
}

void decision_impl::publish(const pmt::pmt_t& msg)
{
    d_pending = false;
    d_last_message = std::chrono::steady_clock::now();
    d_sent_any = true;
    d_messages++;
    message_port_pub(d_port, msg);
}

bool decision_impl::is_probability(const float* p) const
{
    double total = 0.0;
    for (size_t c = 0; c < d_nclasses; c++) {
        if (!(p[c] >= -1e-3f && p[c] <= 1.001f)) { // also false for NaN
            return false;
        }
        total += p[c];
    }
    return std::abs(total - 1.0) <= 1e-2;
}

int decision_impl::work(int noutput_items,
                        gr_vector_const_void_star& input_items,
                        gr_vector_void_star& output_items)
{
    gr::thread::scoped_lock guard(d_setlock); // the setters change what work() reads
    const float* in = static_cast<const float*>(input_items[0]);
    float* out = static_cast<float*>(output_items[0]);
    const uint64_t first = nitems_read(0);

    std::vector<gr::tag_t> tags;
    get_tags_in_window(tags, 0, 0, noutput_items);
    std::sort(tags.begin(), tags.end(), gr::tag_t::offset_compare);
    size_t t = 0;

    for (int i = 0; i < noutput_items; i++) {
        const float* p = in + static_cast<size_t>(i) * d_nclasses;
        float* o = out + static_cast<size_t>(i) * d_nclasses;
        const uint64_t item = first + i;
        uint64_t offset = item;
        bool flagged = false, have_power = false, restart = false, retune = false;
        double power_db = 0.0;
        for (; t < tags.size() && tags[t].offset <= item; t++) {
            if (tags[t].offset < item) {
                continue;
            }
            if (pmt::eqv(tags[t].key, k_window_key) && pmt::is_uint64(tags[t].value)) {
                offset = pmt::to_uint64(tags[t].value);
            } else if (pmt::eqv(tags[t].key, k_flag_key)) {
                flagged = true;
            } else if (pmt::eqv(tags[t].key, k_time_key)) {
                restart = true;
            } else if (pmt::eqv(tags[t].key, k_freq_key) ||
                       pmt::eqv(tags[t].key, k_renorm_key)) {
                retune = true;
            } else if (pmt::eqv(tags[t].key, k_power_key) &&
                       pmt::is_real(tags[t].value)) {
                have_power = true;
                power_db = pmt::to_double(tags[t].value);
            }
        }
        d_seen++;

        bool valid = !flagged;
        if (valid) {
            float total = 0.0f;
            for (size_t c = 0; c < d_nclasses; c++) {
                total += std::abs(p[c]);
            }
            // all zeros: the classifier's placeholder for a window it did not classify
            if (total != 0.0f && !is_probability(p)) {
                if (d_bad_vectors++ == 0) {
                    d_logger->warn(
                        "input vector {:d} is not a probability vector (entries "
                        "outside [0, 1] or not summing to 1): skipped, as are "
                        "all such vectors (counted at the end)",
                        item);
                }
                valid = false;
            }
            valid = valid && total != 0.0f;
        }

        int next = d_current;
        if (restart || retune) {
            // the smoothing must not average across a gap or two frequencies; after a
            // retune the old decision describes another signal
            reset_history();
            if (retune) {
                next = k_unknown;
            }
        }
        if (!valid) {
            d_skipped++;
            reset_history(); // a gap: the next decision waits for k windows after it
        } else if (d_energy_gate && have_power && power_db < d_noise_db) {
            reset_history();
            next = k_noise;
        } else {
            smooth(p);
            if (settled()) { // before that, one transient window could decide alone
                next = decide();
            }
        }
        std::copy(d_smoothed.begin(), d_smoothed.end(), o);

        const float conf = next >= 0 ? d_smoothed[next] : 0.0f;
        const bool changed = next != d_current;
        {
            std::lock_guard<std::mutex> lock(d_mutex);
            d_current = next;
            d_current_conf = conf;
        }
        if (valid) {
            d_unknown += next == k_unknown;
            d_noise += next == k_noise;
        }
        if (changed) {
            d_changes++;
            const pmt::pmt_t dict = describe(next, conf, offset);
            add_item_tag(0, item, k_decision_key, dict, alias_pmt());
        }
        d_since_report++;
        const bool report =
            d_report_every > 0 && d_since_report >= static_cast<uint64_t>(d_report_every);
        if (changed || report) {
            d_since_report = 0;
            send(next, conf, offset);
        } else if (d_pending && may_send()) {
            send(next, conf, offset);
        }
    }
    return noutput_items;
}

} // namespace amc
} // namespace gr
