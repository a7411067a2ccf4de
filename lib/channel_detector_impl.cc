/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "channel_detector_impl.h"
#include <gnuradio/io_signature.h>
#include <volk/volk.h>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gr {
namespace amc {

namespace {

const pmt::pmt_t k_port = pmt::mp("signals");
const pmt::pmt_t k_rx_freq = pmt::mp("rx_freq");

void require(bool ok, const std::string& what)
{
    if (!ok) {
        throw std::invalid_argument("amc.channel_detector: " + what);
    }
}

//! The q-quantile of the mean of k unit exponentials (an averaged noise bin), by
//! bisection on the Erlang distribution function.
double noise_quantile(int k, double q)
{
    auto cdf = [k](double x) {
        double term = std::exp(-k * x), sum = term;
        for (int i = 1; i < k; i++) {
            term *= k * x / i;
            sum += term;
        }
        return 1.0 - sum;
    };
    double lo = 0.0, hi = 10.0;
    for (int i = 0; i < 100; i++) {
        const double mid = 0.5 * (lo + hi);
        (cdf(mid) < q ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

uint64_t frames_in(double seconds, double frame_seconds)
{
    return static_cast<uint64_t>(std::ceil(seconds / frame_seconds - 1e-9));
}

} // namespace

spectrum_analysis::spectrum_analysis(int fft_size, int average, double floor_quantile)
    : d_n(fft_size),
      d_quantile(floor_quantile),
      d_noise_quantile(noise_quantile(average, floor_quantile)),
      d_scratch(fft_size)
{
}

double spectrum_analysis::frame_floor(const std::vector<float>& p)
{
    std::copy(p.begin(), p.end(), d_scratch.begin());
    const auto at = d_scratch.begin() + static_cast<long>(d_quantile * (d_n - 1));
    std::nth_element(d_scratch.begin(), at, d_scratch.end());
    return *at / d_noise_quantile;
}

std::vector<detection>
spectrum_analysis::detect(const std::vector<float>& p,
                          double floor,
                          double on,
                          double off,
                          const std::vector<std::pair<int, int>>& held,
                          int gap,
                          int min_bins) const
{
    std::vector<double> level(d_n, floor * on);
    for (const auto& [a, b] : held) { // tracked signals hold on to their bins
        for (int k = std::max(0, a - gap); k <= std::min(d_n - 1, b + gap); k++) {
            level[k] = floor * off;
        }
    }
    std::vector<std::pair<int, int>> runs;
    for (int k = 0; k < d_n; k++) {
        if (p[k] > level[k]) {
            if (!runs.empty() && k - runs.back().second - 1 <= gap) {
                runs.back().second = k;
            } else {
                runs.emplace_back(k, k);
            }
        }
    }
    // a wide signal's skirts come and go in pieces at its edges: runs closer than a
    // sixteenth of their widths are one signal
    std::vector<std::pair<int, int>> merged;
    for (const auto& r : runs) {
        if (!merged.empty()) {
            auto& m = merged.back();
            const int width = (m.second - m.first + 1) + (r.second - r.first + 1);
            if (r.first - m.second - 1 <= std::max(gap, width / 16)) {
                m.second = r.second;
                continue;
            }
        }
        merged.push_back(r);
    }
    // the excess over the floor, smoothed over 5 bins for the level and the edges
    auto excess = [&](int k) {
        return k < 0 || k >= d_n ? 0.0 : std::max(double(p[k]) - floor, 0.0);
    };
    auto smooth = [&](int k) {
        double sum = 0;
        for (int j = k - 2; j <= k + 2; j++) {
            sum += excess(j);
        }
        return sum / 5;
    };
    std::vector<detection> found;
    for (const auto& [s, e] : merged) {
        if (e - s + 1 < min_bins) {
            continue;
        }
        std::vector<double> bins;
        for (int k = s; k <= e; k++) {
            bins.push_back(smooth(k));
        }
        const auto q75 = bins.begin() + static_cast<long>(0.75 * (bins.size() - 1));
        std::nth_element(bins.begin(), q75, bins.end());
        detection d;
        d.first = s;
        d.last = e;
        d.level = floor + *q75;
        d.excess = 0;
        for (int k = s; k <= e; k++) {
            d.excess += excess(k);
        }
        const double half = 0.5 * *q75;
        int a = s, b = e;
        while (a < e && smooth(a) < half) {
            a++;
        }
        while (b > a && smooth(b) < half) {
            b--;
        }
        const double la = smooth(a - 1), lb = smooth(b + 1);
        d.lo = a -
               std::clamp((smooth(a) - half) / std::max(smooth(a) - la, 1e-30), 0.0, 1.0);
        d.hi = b +
               std::clamp((smooth(b) - half) / std::max(smooth(b) - lb, 1e-30), 0.0, 1.0);
        found.push_back(d);
    }
    return found;
}

channel_detector::sptr channel_detector::make(double samp_rate,
                                              double center_freq,
                                              int fft_size,
                                              int average,
                                              double threshold_db,
                                              double hysteresis_db,
                                              double min_bandwidth,
                                              double min_duration,
                                              double hold,
                                              int gap_bins,
                                              double report_interval,
                                              double floor_quantile)
{
    return gnuradio::make_block_sptr<channel_detector_impl>(samp_rate,
                                                            center_freq,
                                                            fft_size,
                                                            average,
                                                            threshold_db,
                                                            hysteresis_db,
                                                            min_bandwidth,
                                                            min_duration,
                                                            hold,
                                                            gap_bins,
                                                            report_interval,
                                                            floor_quantile);
}

namespace {
int checked_size(double samp_rate,
                 double center_freq,
                 int fft_size,
                 int average,
                 double threshold_db,
                 double hysteresis_db,
                 double min_bandwidth,
                 double min_duration,
                 double hold,
                 int gap_bins,
                 double report_interval,
                 double floor_quantile)
{
    auto n = [](double v) { return std::to_string(v); };
    require(std::isfinite(samp_rate) && samp_rate > 0,
            "samp_rate " + n(samp_rate) + " must be > 0 (Hz)");
    require(std::isfinite(center_freq), "center_freq must be finite (Hz)");
    require(fft_size >= 64 && fft_size <= 65536 && (fft_size & (fft_size - 1)) == 0,
            "fft_size " + std::to_string(fft_size) +
                " must be a power of two in 64 .. 65536");
    require(average >= 1 && average <= 1024,
            "average " + std::to_string(average) + " must be in 1 .. 1024");
    require(std::isfinite(threshold_db) && threshold_db > 0,
            "threshold_db " + n(threshold_db) + " must be > 0");
    require(std::isfinite(hysteresis_db) && hysteresis_db >= 0 &&
                hysteresis_db < threshold_db,
            "hysteresis_db " + n(hysteresis_db) + " must be >= 0 and < threshold_db");
    require(std::isfinite(min_bandwidth) && min_bandwidth >= 0 &&
                min_bandwidth < samp_rate,
            "min_bandwidth " + n(min_bandwidth) + " must be in 0 .. samp_rate (Hz)");
    require(std::isfinite(min_duration) && min_duration >= 0,
            "min_duration " + n(min_duration) + " must be >= 0 (s)");
    require(std::isfinite(hold) && hold >= 0, "hold " + n(hold) + " must be >= 0 (s)");
    require(gap_bins >= 0 && gap_bins < fft_size,
            "gap_bins " + std::to_string(gap_bins) + " must be in 0 .. fft_size");
    require(std::isfinite(report_interval) && report_interval >= 0,
            "report_interval " + n(report_interval) + " must be >= 0 (s; 0: no list)");
    require(floor_quantile >= 0.05 && floor_quantile <= 0.5,
            "floor_quantile " + n(floor_quantile) + " must be in 0.05 .. 0.5");
    return fft_size;
}
} // namespace

channel_detector_impl::channel_detector_impl(double samp_rate,
                                             double center_freq,
                                             int fft_size,
                                             int average,
                                             double threshold_db,
                                             double hysteresis_db,
                                             double min_bandwidth,
                                             double min_duration,
                                             double hold,
                                             int gap_bins,
                                             double report_interval,
                                             double floor_quantile)
    : gr::sync_block("amc_channel_detector",
                     gr::io_signature::make(1, 1, sizeof(gr_complex)),
                     gr::io_signature::make(0, 0, 0)),
      d_samp_rate(samp_rate),
      d_center(center_freq),
      d_n(checked_size(samp_rate,
                       center_freq,
                       fft_size,
                       average,
                       threshold_db,
                       hysteresis_db,
                       min_bandwidth,
                       min_duration,
                       hold,
                       gap_bins,
                       report_interval,
                       floor_quantile)),
      d_average(average),
      d_on(std::pow(10.0, threshold_db / 10)),
      d_off(std::pow(10.0, (threshold_db - hysteresis_db) / 10)),
      d_min_bins(min_bandwidth > 0
                     ? std::max(1, int(std::ceil(min_bandwidth * fft_size / samp_rate)))
                     : 3),
      d_gap(gap_bins),
      d_fft(fft_size),
      d_window(fft_size),
      d_power(fft_size),
      d_acc(fft_size, 0.0f),
      d_buf(fft_size),
      d_analysis(fft_size, average, floor_quantile)
{
    double w2 = 0;
    for (int i = 0; i < d_n; i++) { // Hann, periodic
        d_window[i] = 0.5 - 0.5 * std::cos(2 * M_PI * i / d_n);
        w2 += double(d_window[i]) * d_window[i];
    }
    // scaled so that a bin holds power per bin: white noise of power s gives s / n
    const float scale = static_cast<float>(1.0 / std::sqrt(w2 * d_n));
    for (float& w : d_window) {
        w *= scale;
    }
    const double frame_s = double(d_n) * d_average / samp_rate;
    d_min_frames = std::max<uint64_t>(1, frames_in(min_duration, frame_s));
    d_hold_frames = frames_in(hold, frame_s);
    d_report_frames = report_interval > 0
                          ? std::max<uint64_t>(1, frames_in(report_interval, frame_s))
                          : 0;
    message_port_register_out(k_port);
}

void channel_detector_impl::fft_block(const gr_complex* x)
{
    volk_32fc_32f_multiply_32fc(d_fft.get_inbuf(), x, d_window.data(), d_n);
    d_fft.execute();
    volk_32fc_magnitude_squared_32f(d_power.data(), d_fft.get_outbuf(), d_n);
    volk_32f_x2_add_32f(d_acc.data(), d_acc.data(), d_power.data(), d_n);
    if (++d_ffts == d_average) {
        analyse();
        d_ffts = 0;
        std::fill(d_acc.begin(), d_acc.end(), 0.0f);
    }
}

void channel_detector_impl::analyse()
{
    std::vector<float> p(d_n); // DC in the middle, averaged
    const float inv = 1.0f / d_average;
    for (int k = 0; k < d_n; k++) {
        const float v = d_acc[(k + d_n / 2) % d_n] * inv;
        p[k] = std::isfinite(v) ? v : 0.0f; // a non-finite sample spoils one frame only
    }
    // the floor: the median of the last frames' (a burst may lift one frame's)
    d_floors.push_back(d_analysis.frame_floor(p));
    if (d_floors.size() > 15) {
        d_floors.pop_front();
    }
    std::vector<double> sorted(d_floors.begin(), d_floors.end());
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    d_floor = std::max(sorted[sorted.size() / 2], 1e-30);
    d_floor_db = 10 * std::log10(d_floor);
    std::vector<std::pair<int, int>> held;
    for (const track& t : d_tracks) {
        held.emplace_back(t.first, t.last);
    }
    follow(d_analysis.detect(p, d_floor, d_on, d_off, held, d_gap, d_min_bins));
    d_frames++;
    if (d_report_frames && (d_frame + 1) % d_report_frames == 0) {
        report();
    }
    d_frame++;
}

void channel_detector_impl::follow(const std::vector<detection>& found)
{
    // each detection belongs to the track it overlaps most; several belonging to one
    // track are one signal seen in pieces this frame (a spectrum with a dip), merged
    const size_t known = d_tracks.size();
    std::vector<std::vector<const detection*>> pieces(known);
    std::vector<const detection*> fresh;
    for (const detection& d : found) {
        int best = -1, best_overlap = 0;
        for (size_t i = 0; i < known; i++) {
            const int overlap = std::min(d.last + d_gap, d_tracks[i].last) -
                                std::max(d.first - d_gap, d_tracks[i].first) + 1;
            if (overlap > best_overlap) {
                best = int(i);
                best_overlap = overlap;
            }
        }
        (best < 0 ? fresh : pieces[best]).push_back(&d);
    }
    for (size_t i = 0; i < known; i++) {
        if (pieces[i].empty()) {
            continue;
        }
        detection d = *pieces[i][0];
        for (size_t j = 1; j < pieces[i].size(); j++) {
            const detection& o = *pieces[i][j];
            d.first = std::min(d.first, o.first);
            d.last = std::max(d.last, o.last);
            d.lo = std::min(d.lo, o.lo);
            d.hi = std::max(d.hi, o.hi);
            d.level = std::max(d.level, o.level);
            d.excess += o.excess;
        }
        track& t = d_tracks[i];
        t.frames_seen++;
        // a running mean over its first frames, then exponential (follows drift)
        const double a = std::max(0.1, 1.0 / t.frames_seen);
        t.center += a * (0.5 * (d.lo + d.hi) - t.center);
        t.bandwidth += a * ((d.hi - d.lo) - t.bandwidth);
        t.level += a * (d.level - t.level);
        t.excess += a * (d.excess - t.excess);
        t.first = d.first;
        t.last = d.last;
        t.last_frame = d_frame;
    }
    for (const detection* d : fresh) {
        d_tracks.push_back({ d_next_id++,
                             d->first,
                             d->last,
                             0.5 * (d->lo + d->hi),
                             d->hi - d->lo,
                             d->level,
                             d->excess,
                             d_frame,
                             d_frame,
                             1,
                             false });
    }
    for (size_t i = 0; i < d_tracks.size();) {
        track& t = d_tracks[i];
        if (!t.announced && t.last_frame == d_frame && t.frames_seen >= d_min_frames) {
            t.announced = true;
            d_found++;
            publish("start", t);
        }
        if (d_frame - t.last_frame > d_hold_frames ||
            (!t.announced && t.last_frame != d_frame)) {
            // gone; a candidate must be seen in consecutive frames until announced
            if (t.announced) {
                publish("end", t);
            }
            d_tracks.erase(d_tracks.begin() + i);
            continue;
        }
        i++;
    }
    d_active = static_cast<int>(std::count_if(
        d_tracks.begin(), d_tracks.end(), [](const track& t) { return t.announced; }));
}

pmt::pmt_t channel_detector_impl::describe(const track& t) const
{
    const double bin = d_samp_rate / d_n, frame = double(d_n) * d_average;
    auto put = [](pmt::pmt_t d, const char* key, pmt::pmt_t v) {
        return pmt::dict_add(d, pmt::mp(key), v);
    };
    pmt::pmt_t d = pmt::make_dict();
    d = put(d, "id", pmt::from_uint64(t.id));
    d = put(d, "center_hz", pmt::from_double(d_center + (t.center - d_n / 2) * bin));
    d = put(d, "bandwidth_hz", pmt::from_double(t.bandwidth * bin));
    d = put(d, "occupied_hz", pmt::from_double((t.last - t.first + 1) * bin));
    d = put(d, "power_db", pmt::from_double(10 * std::log10(std::max(t.excess, 1e-30))));
    d = put(d,
            "snr_db",
            pmt::from_double(10 * std::log10(std::max(t.level / d_floor - 1, 1e-3))));
    d = put(d, "first_seen", pmt::from_double(t.first_frame * frame / d_samp_rate));
    d = put(d, "last_seen", pmt::from_double((t.last_frame + 1) * frame / d_samp_rate));
    d = put(d, "first_sample", pmt::from_uint64(uint64_t(t.first_frame * frame)));
    d = put(d, "last_sample", pmt::from_uint64(uint64_t((t.last_frame + 1) * frame)));
    return d;
}

void channel_detector_impl::publish(const char* event, const track& t)
{
    message_port_pub(k_port,
                     pmt::dict_add(describe(t), pmt::mp("event"), pmt::mp(event)));
}

void channel_detector_impl::report()
{
    pmt::pmt_t d = pmt::make_dict();
    d = pmt::dict_add(d, pmt::mp("event"), pmt::mp("list"));
    d = pmt::dict_add(
        d,
        pmt::mp("time"),
        pmt::from_double((d_frame + 1) * double(d_n) * d_average / d_samp_rate));
    d = pmt::dict_add(d, pmt::mp("noise_floor_db"), pmt::from_double(d_floor_db));
    d = pmt::dict_add(d, pmt::mp("signals"), tracked());
    message_port_pub(k_port, d);
}

void channel_detector_impl::retune(double freq)
{
    if (freq == d_center) {
        return;
    }
    for (const track& t : d_tracks) { // another band: what was there has ended
        if (t.announced) {
            publish("end", t);
        }
    }
    d_tracks.clear();
    d_active = 0;
    d_center = freq;
}

bool channel_detector_impl::stop()
{
    // every signal announced also ends (a message sent now may not reach a block that
    // has stopped already: tracked() still has them)
    for (const track& t : d_tracks) {
        if (t.announced) {
            publish("end", t);
        }
    }
    return true;
}

pmt::pmt_t channel_detector_impl::tracked() const
{
    std::vector<pmt::pmt_t> active;
    for (const track& t : d_tracks) {
        if (t.announced) {
            active.push_back(describe(t));
        }
    }
    pmt::pmt_t list = pmt::make_vector(active.size(), pmt::PMT_NIL);
    for (size_t i = 0; i < active.size(); i++) {
        pmt::vector_set(list, i, active[i]);
    }
    return list;
}

int channel_detector_impl::work(int noutput_items,
                                gr_vector_const_void_star& input_items,
                                gr_vector_void_star&)
{
    const gr_complex* in = static_cast<const gr_complex*>(input_items[0]);
    const uint64_t start = nitems_read(0);
    std::vector<tag_t> tags;
    get_tags_in_range(tags, 0, start, start + noutput_items, k_rx_freq);
    size_t next_tag = 0;
    int i = 0;
    while (i < noutput_items) {
        while (next_tag < tags.size() && tags[next_tag].offset <= start + i) {
            if (pmt::is_number(tags[next_tag].value)) {
                retune(pmt::to_double(tags[next_tag].value));
            }
            next_tag++;
        }
        const int until =
            next_tag < tags.size() ? int(tags[next_tag].offset - start) : noutput_items;
        // whole FFTs straight from the input where the buffer is empty
        while (d_filled == 0 && until - i >= d_n) {
            fft_block(in + i);
            i += d_n;
        }
        const int take = std::min(d_n - d_filled, until - i);
        std::copy(in + i, in + i + take, d_buf.begin() + d_filled);
        d_filled += take;
        i += take;
        if (d_filled == d_n) {
            fft_block(d_buf.data());
            d_filled = 0;
        }
    }
    return noutput_items;
}

} // namespace amc
} // namespace gr
