/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "signal_estimator_impl.h"
#include <gnuradio/io_signature.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>

namespace gr {
namespace amc {

namespace {

constexpr int k_psd_size = 1024;     // Welch segments of the power spectrum
constexpr double k_band_db = 13.0;   // the occupied band: within this of the peak
constexpr double k_nothing_db = 3.0; // a peak less than this above the floor: no signal
constexpr double k_line_min = 8.0;   // a line this many times the median around it
// the root FSK feature's threshold: its spectrum is smooth away from its lines (the root
// tames the clicks), where a noise bin passes 6x the median with p ~ 1e-11; WBFM's
// strongest was 4.7 (measured, 32 signals at 5-30 dB)
constexpr double k_root_min = 6.0;
// E|s|^4 / (E|s|^2)^2 of the signal: 1 for FSK and FM, 1.19 and up for root-raised-
// cosine PSK, PAM and QAM (measured, roll-off 0.2..0.5)
constexpr double k_constant_envelope = 1.1;

const pmt::pmt_t k_port = pmt::mp("estimate");

void require(bool ok, const std::string& what)
{
    if (!ok) {
        throw std::invalid_argument("amc.signal_estimator: " + what);
    }
}

//! numpy's median (the mean of the middle two of an even count); v is reordered.
double median(std::vector<double>& v)
{
    const size_t h = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + h, v.end());
    const double hi = v[h];
    if (v.size() % 2) {
        return hi;
    }
    return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + h));
}

struct line_found {
    double freq = 0.0, strength = 0.0, mag = 0.0;
};

//! The strongest line of s between lo and hi (cycles/sample): its frequency refined by
//! Jacobsen's three-bin estimator, its strength (over the median of the 400 bins
//! around it) and its magnitude. Strongest: the largest bin, or (whitened, for a
//! spectrum far from flat) the largest over the mean of the 400 bins around it.
line_found find_line(const line_spectrum& s, double lo, double hi, bool whitened = false)
{
    constexpr long half = 200;
    const long bins = static_cast<long>(s.mag.size());
    const long k0 = std::max(2L, static_cast<long>(lo * s.n));
    const long k1 = std::min(bins - 2, static_cast<long>(std::ceil(hi * s.n)));
    if (k1 <= k0 + 2) {
        return {};
    }
    long k = k0 + (std::max_element(s.mag.begin() + k0, s.mag.begin() + k1) -
                   s.mag.begin() - k0);
    if (whitened) {
        std::vector<double> sum(bins + 1, 0.0); // running sums: each bin's local mean
        for (long i = 0; i < bins; i++) {
            sum[i + 1] = sum[i] + s.mag[i];
        }
        double best = -1;
        for (long i = k0; i < k1; i++) {
            const long a = std::max(1L, i - half), b = std::min(bins, i + half);
            const double score = s.mag[i] * (b - a) / std::max(sum[b] - sum[a], 1e-30);
            if (score > best) {
                best = score;
                k = i;
            }
        }
    }
    std::vector<double> around(s.mag.begin() + std::max(1L, k - half),
                               s.mag.begin() + std::min(bins, k + half));
    line_found f;
    f.mag = s.mag[k];
    f.strength = f.mag / std::max(median(around), 1e-30);
    const std::complex<double> a = s.bins[k - 1], b = s.bins[k], c = s.bins[k + 1];
    const std::complex<double> denom = 2.0 * b - a - c;
    const double delta = std::abs(denom) > 0 ? std::real((a - c) / denom) : 0.0;
    f.freq = (k + std::clamp(delta, -0.5, 0.5)) / s.n;
    return f;
}

//! find_line's, but a line at half the frequency found is the symbol rate when it is a
//! line too and not much smaller: the jumps of a rectangular FSK make harmonics about
//! as large as the first (the strength favours them, where the noise around is lower);
//! the weaker sub-harmonics of a non-integer sampling pattern are not.
line_found fundamental(const line_spectrum& s, double lo, double hi)
{
    line_found f = find_line(s, lo, hi);
    while (f.freq > 0) {
        const line_found half = find_line(s, 0.49 * f.freq, 0.51 * f.freq);
        if (half.strength < k_line_min || half.mag < 0.7 * f.mag) {
            break;
        }
        f = half;
    }
    return f;
}

//! E|s|^4 / (E|s|^2)^2 of the signal s in y = s + n, n circular Gaussian of power noise
//! (E|y|^2 = S + N, E|y|^4 = E|s|^4 + 4 S N + 2 N^2).
double kurtosis(const std::vector<gr_complex>& y, double noise)
{
    double m2 = 0, m4 = 0;
    for (const gr_complex& v : y) {
        const double p = std::norm(v);
        m2 += p;
        m4 += p * p;
    }
    m2 /= y.size();
    m4 /= y.size();
    const double signal = std::max(m2 - noise, 1e-30);
    return (m4 - 4 * signal * noise - 2 * noise * noise) / (signal * signal);
}

//! What the kind, strength and warnings make an estimate of.
signal_estimate made(const char* kind,
                     double cfo,
                     double bandwidth,
                     double symbol_rate,
                     double snr_db,
                     double line,
                     std::vector<std::string> warnings)
{
    signal_estimate e;
    e.kind = kind;
    e.cfo = cfo;
    e.bandwidth = bandwidth;
    e.symbol_rate = symbol_rate;
    e.snr_db = snr_db;
    e.line = line;
    e.warnings = std::move(warnings);
    return e;
}

} // namespace

size_t estimator_core::fft_size(size_t n)
{
    size_t p = 1;
    while (2 * p <= n) {
        p *= 2;
    }
    if (p >= 4 && p / 2 * 3 <= n) {
        return p / 2 * 3;
    }
    if (p >= 4 && p / 4 * 5 <= n) {
        return p / 4 * 5;
    }
    return p;
}

estimator_core::estimator_core(size_t n)
    : d_n(n),
      d_psd_fft(k_psd_size),
      d_fwd(n),
      d_rev(n),
      d_real(n),
      d_window(k_psd_size),
      d_spec(n),
      d_y(n),
      d_y_fsk(n),
      d_seq(n)
{
    for (int i = 0; i < k_psd_size; i++) { // numpy's hanning: symmetric
        d_window[i] = 0.5 - 0.5 * std::cos(2 * M_PI * i / (k_psd_size - 1));
    }
    d_line.n = n;
    d_line.bins.resize(n / 2 + 1);
    d_line.mag.resize(n / 2 + 1);
}

std::vector<float> estimator_core::psd(const gr_complex* x)
{
    // Welch: Hann segments overlapping by half, DC in the middle
    const int n = k_psd_size;
    const size_t hops = std::max<size_t>(1, (d_n - n) / (n / 2) + 1);
    std::vector<double> acc(n, 0.0);
    for (size_t h = 0; h < hops; h++) {
        gr_complex* in = d_psd_fft.get_inbuf();
        for (int i = 0; i < n; i++) {
            in[i] = x[h * n / 2 + i] * d_window[i];
        }
        d_psd_fft.execute();
        const gr_complex* out = d_psd_fft.get_outbuf();
        for (int i = 0; i < n; i++) {
            acc[(i + n / 2) % n] += std::norm(out[i]);
        }
    }
    double w2 = 0;
    for (float w : d_window) {
        w2 += double(w) * w;
    }
    std::vector<float> p(n);
    for (int i = 0; i < n; i++) {
        p[i] = acc[i] / hops / w2;
    }
    return p;
}

const line_spectrum& estimator_core::spectrum_of(const float* y, size_t m)
{
    const double mean = std::accumulate(y, y + m, 0.0) / m;
    float* in = d_real.get_inbuf();
    for (size_t i = 0; i < d_n; i++) {
        in[i] = i < m ? y[i] - mean : 0.0f;
    }
    d_real.execute();
    const gr_complex* out = d_real.get_outbuf();
    std::copy(out, out + d_line.bins.size(), d_line.bins.begin());
    for (size_t i = 0; i < d_line.bins.size(); i++) {
        d_line.mag[i] = std::abs(d_line.bins[i]);
    }
    return d_line;
}

namespace {

//! The inverse FFT's input: spectrum (n bins) with the bins above cutoff (cycles/sample,
//! either sign) set to zero.
void brick_wall(const gr_complex* spectrum, gr_complex* out, size_t n, double cutoff)
{
    for (size_t k = 0; k < n; k++) {
        const double f = std::abs((k < (n + 1) / 2 ? double(k) : double(k) - n) / n);
        out[k] = f > cutoff ? gr_complex(0) : spectrum[k];
    }
}

} // namespace

void estimator_core::band_limit(double cutoff, std::vector<gr_complex>& out)
{
    brick_wall(d_spec.data(), d_rev.get_inbuf(), d_n, cutoff);
    d_rev.execute();
    const gr_complex* o = d_rev.get_outbuf();
    const float scale = 1.0f / d_n;
    for (size_t i = 0; i < d_n; i++) {
        out[i] = o[i] * scale;
    }
}

//! y[0..m) low-passed in place (a brick wall at cutoff, cycles/sample) through the
//! complex FFTs; d_spec, the centred signal's spectrum, is left as it is.
void estimator_core::low_pass(double cutoff, float* y, size_t m)
{
    gr_complex* in = d_fwd.get_inbuf();
    for (size_t i = 0; i < d_n; i++) {
        in[i] = i < m ? gr_complex(y[i], 0.0f) : gr_complex(0.0f);
    }
    d_fwd.execute();
    brick_wall(d_fwd.get_outbuf(), d_rev.get_inbuf(), d_n, cutoff);
    d_rev.execute();
    const gr_complex* o = d_rev.get_outbuf();
    for (size_t i = 0; i < m; i++) {
        y[i] = o[i].real() / d_n;
    }
}

signal_estimate estimator_core::run(const gr_complex* x_in)
{
    const int n = k_psd_size;
    // non-finite samples count as silence here
    std::vector<gr_complex> x(x_in, x_in + d_n);
    for (gr_complex& v : x) {
        if (!std::isfinite(v.real()) || !std::isfinite(v.imag())) {
            v = 0;
        }
    }
    const std::vector<float> p = psd(x.data());
    std::vector<double> smooth(n);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = std::max(0, i - 4); j <= std::min(n - 1, i + 4); j++) {
            s += p[j];
        }
        smooth[i] = s / 9;
    }
    std::vector<double> sorted(smooth);
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> quiet(sorted.begin(),
                              sorted.begin() + n / 5); // the quietest fifth
    const double floor = std::max(median(quiet), 1e-30);
    const double peak = sorted.back();
    std::vector<std::string> warnings;
    if (10 * std::log10(peak / floor) < k_nothing_db) {
        return made("none",
                    0,
                    0,
                    0,
                    -std::numeric_limits<double>::infinity(),
                    0,
                    { "no signal above the noise floor" });
    }
    std::vector<double> excess(n);
    for (int i = 0; i < n; i++) {
        excess[i] = std::max(smooth[i] - floor, 0.0);
    }
    const double level =
        *std::max_element(excess.begin(), excess.end()) * std::pow(10.0, -k_band_db / 10);
    // runs of bins over the level: the signals, the strongest estimated
    std::vector<std::pair<int, int>> bands;
    std::vector<double> powers;
    for (int i = 0; i < n; i++) {
        if (excess[i] > level) {
            if (i == 0 || excess[i - 1] <= level) {
                bands.emplace_back(i, i);
                powers.push_back(0);
            }
            bands.back().second = i;
            powers.back() += excess[i];
        }
    }
    std::vector<size_t> order(bands.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return powers[a] > powers[b];
    });
    const int first = bands[order[0]].first, last = bands[order[0]].second;
    if (bands.size() > 1 && powers[order[1]] > 0.1 * powers[order[0]]) {
        warnings.push_back(std::to_string(bands.size()) +
                           " signals in the band: the strongest is estimated");
    }
    if (first <= 2 || last >= n - 3) {
        warnings.push_back("the signal reaches the band edge or is wider than the band: "
                           "estimates are unsure");
    }
    double weighted = 0, total = 0;
    for (int i = first; i <= last; i++) {
        weighted += double(i - n / 2) / n * excess[i];
        total += excess[i];
    }
    const double cfo = weighted / total;
    const double bandwidth = double(last - first + 1) / n;
    const double snr_db = 10 * std::log10(std::max(total / (floor * n), 1e-12));

    // centred and filtered to the band (a brick wall a little wider), for the lines
    gr_complex* in = d_fwd.get_inbuf();
    for (size_t i = 0; i < d_n; i++) {
        const double turns = std::fmod(cfo * double(i), 1.0);
        in[i] = x[i] * std::polar(1.0f, static_cast<float>(-2 * M_PI * turns));
    }
    d_fwd.execute();
    std::copy(d_fwd.get_outbuf(), d_fwd.get_outbuf() + d_n, d_spec.begin());
    // FSK's symbol rate shows in its spectral skirts: a wider filter for its features
    const double fsk_cutoff = 1.5 * bandwidth + 2.0 / n;
    band_limit(fsk_cutoff, d_y_fsk);
    band_limit(0.6 * bandwidth + 2.0 / n, d_y);

    // a root-raised-cosine signal of roll-off b occupies about (1 + b) Rs: Rs lies
    // between bandwidth / 1.7 and the bandwidth; a narrow FSK (GFSK of index 0.25)
    // occupies less than half its symbol rate, a wide one up to several
    for (size_t i = 0; i < d_n; i++) {
        d_seq[i] = std::norm(d_y[i]);
    }
    const line_found lin = fundamental(
        spectrum_of(d_seq.data(), d_n), bandwidth / 1.7, std::min(0.5, 1.1 * bandwidth));

    // FSK: the instantaneous frequency is a PAM waveform; its square has the line
    // (Gaussian pulses, GFSK), and so has its jumps' (rectangular ones, CPFSK)
    std::vector<float> inst(d_n - 1);
    double mean = 0;
    for (size_t i = 0; i + 1 < d_n; i++) {
        inst[i] = std::arg(d_y_fsk[i + 1] * std::conj(d_y_fsk[i]));
        mean += inst[i];
    }
    mean /= inst.size();
    for (float& v : inst) {
        v -= mean;
    }
    const double lo = bandwidth / 4, hi = std::min(0.5, 3 * bandwidth);
    for (size_t i = 0; i < inst.size(); i++) {
        d_seq[i] = inst[i] * inst[i];
    }
    const line_found sq = fundamental(spectrum_of(d_seq.data(), inst.size()), lo, hi);
    for (size_t i = 0; i + 1 < inst.size(); i++) {
        const float d = inst[i + 1] - inst[i];
        d_seq[i] = d * d;
    }
    const line_spectrum& jumps_spectrum = spectrum_of(d_seq.data(), inst.size() - 1);
    const line_found jump = fundamental(jumps_spectrum, lo, hi);

    line_found fsk = sq.strength > jump.strength ? sq : jump;
    const bool octave =
        sq.freq > 0 && jump.freq > 0 &&
        std::abs(std::max(sq.freq, jump.freq) / std::min(sq.freq, jump.freq) - 2) < 0.02;
    if (std::min(sq.strength, jump.strength) >= k_line_min && octave) {
        // the two features an octave apart: the jumps' line is the symbol rate (the
        // squared frequency of a rectangular FSK peaks at 2 Rs; the sampling pattern of a
        // non-integer samples per symbol can make a line at Rs / 2)
        fsk = jump;
    } else if (sq.strength > jump.strength && sq.freq > 0 &&
               find_line(jumps_spectrum, 0.49 * sq.freq, 0.51 * sq.freq).strength >=
                   k_line_min / 2) {
        fsk.freq = sq.freq / 2; // the jumps, weaker elsewhere, still show a line at half
    }
    // A narrow GFSK's frequency features above drown in the discriminator's clicks below
    // about 15 dB Es/N0: the square root of |frequency|, the frequency taken behind a
    // filter a little narrower than the band and then low-passed to about the band (a
    // narrow GFSK's frequency has nothing above it; the discriminator's noise does),
    // keeps the line at Rs to about 10 dB (measured on 10 dB GFSK: strength 8.3 / 7.5 at
    // 12 / 20 sps, where the fourth root without the low-pass gave 5.4 / 4.6; CPFSK and
    // GMSK show it at Rs too). Where the features above see a line at twice its
    // frequency, it is the sub-harmonic of a non-integer sampling pattern, and theirs is
    // the rate.
    band_limit(0.8 * bandwidth + 2.0 / n, d_y); // d_y's linear feature is taken: reused
    double centre = 0;
    for (size_t i = 0; i + 1 < d_n; i++) {
        d_seq[i] = std::arg(d_y[i + 1] * std::conj(d_y[i]));
        centre += d_seq[i];
    }
    centre /= d_n - 1;
    for (size_t i = 0; i + 1 < d_n; i++) {
        d_seq[i] -= float(centre);
    }
    low_pass(0.85 * bandwidth + 2.0 / n, d_seq.data(), d_n - 1);
    for (size_t i = 0; i + 1 < d_n; i++) {
        d_seq[i] = std::sqrt(std::abs(d_seq[i]));
    }
    // the low-pass leaves this spectrum high below the band and low above it
    const line_found root = find_line(spectrum_of(d_seq.data(), d_n - 1), lo, hi, true);
    const bool sub_harmonic = fsk.strength >= k_line_min && root.freq > 0 &&
                              std::abs(fsk.freq / root.freq - 2) < 0.02;
    bool fsk_found = fsk.strength >= k_line_min;
    if (root.strength >= k_root_min && !sub_harmonic) {
        fsk = root;
        fsk_found = true;
    }
    const double k = kurtosis(d_y_fsk, floor * std::min(1.0, 2 * fsk_cutoff));
    if (k < k_constant_envelope) {
        // FSK (or FM). The band filter's ripple on its envelope carries the rate too,
        // and more clearly than the instantaneous frequency where the filter cuts into
        // the band (CPFSK, whose frequency features at 12-16 sps and 15 dB sometimes
        // show 2 Rs); a narrow GFSK shows it only in its frequency
        const bool by_frequency = fsk_found && fsk.strength >= lin.strength;
        const line_found& use = by_frequency ? fsk : lin;
        if (by_frequency || lin.strength >= k_line_min) {
            return made("constant_envelope",
                        cfo,
                        bandwidth,
                        use.freq,
                        snr_db,
                        use.strength,
                        warnings);
        }
    } else if (lin.strength >= k_line_min) {
        return made("linear", cfo, bandwidth, lin.freq, snr_db, lin.strength, warnings);
    }
    return made("analog",
                cfo,
                bandwidth,
                0,
                snr_db,
                std::max(lin.strength, fsk.strength),
                warnings);
}

signal_estimate signal_estimator::estimate(const gr_complex* x, size_t n)
{
    if (n < min_samples) {
        throw std::invalid_argument(std::to_string(n) +
                                    " samples: blind estimation needs at least " +
                                    std::to_string(min_samples));
    }
    // one core (and its FFT plans) kept for the size last asked for
    static std::mutex lock;
    static std::unique_ptr<estimator_core> core;
    const std::lock_guard<std::mutex> guard(lock);
    const size_t size = estimator_core::fft_size(std::min(n, max_samples));
    if (!core || core->size() != size) {
        core = std::make_unique<estimator_core>(size);
    }
    return core->run(x);
}

signal_estimator::sptr
signal_estimator::make(double samp_rate, int span, int interval, int smooth)
{
    return gnuradio::make_block_sptr<signal_estimator_impl>(
        samp_rate, span, interval, smooth);
}

namespace {
int checked_span(double samp_rate, int span, int interval, int smooth)
{
    require(std::isfinite(samp_rate) && samp_rate >= 0,
            "samp_rate " + std::to_string(samp_rate) +
                " must be a finite number >= 0 (0: cycles/sample)");
    require(span >= int(signal_estimator::min_samples) &&
                span <= int(signal_estimator::max_samples),
            "span " + std::to_string(span) + " must be an integer in " +
                std::to_string(signal_estimator::min_samples) + " .. " +
                std::to_string(signal_estimator::max_samples));
    require(interval >= 0,
            "interval " + std::to_string(interval) + " must be >= 0 (0: automatic)");
    require(smooth >= 1, "smooth " + std::to_string(smooth) + " must be >= 1");
    return span;
}
} // namespace

signal_estimator_impl::signal_estimator_impl(double samp_rate,
                                             int span,
                                             int interval,
                                             int smooth)
    : gr::sync_block("amc_signal_estimator",
                     gr::io_signature::make(1, 1, sizeof(gr_complex)),
                     gr::io_signature::make(1, 1, sizeof(gr_complex))),
      d_samp_rate(samp_rate),
      d_span(checked_span(samp_rate, span, interval, smooth)),
      d_interval(interval ? uint64_t(interval)
                          : (samp_rate >= 1 ? uint64_t(samp_rate) : 16 * d_span)),
      d_smooth(smooth),
      d_ring(d_span),
      d_next(d_span),
      d_core(estimator_core::fft_size(d_span))
{
    message_port_register_out(k_port);
}

void signal_estimator_impl::keep(const gr_complex* x, uint64_t start, int n)
{
    const uint64_t base = d_next - d_span;
    const uint64_t lo = std::max(start, base), hi = std::min(start + n, d_next);
    if (lo < hi) {
        std::copy(x + (lo - start), x + (hi - start), d_ring.begin() + (lo - base));
    }
}

signal_estimate signal_estimator_impl::smoothed(const signal_estimate& e)
{
    d_history.push_back(e);
    while (d_history.size() > d_smooth) {
        d_history.pop_front();
    }
    std::vector<double> cfos, rates;
    for (const signal_estimate& h : d_history) {
        if (h.kind == e.kind && h.symbol_rate > 0) {
            cfos.push_back(h.cfo);
            rates.push_back(h.symbol_rate);
        }
    }
    if (e.symbol_rate <= 0 || rates.empty()) {
        return e;
    }
    signal_estimate s = e;
    s.cfo = median(cfos);
    s.symbol_rate = median(rates);
    return s;
}

void signal_estimator_impl::publish(const signal_estimate& e, uint64_t item)
{
    const double hz = d_samp_rate > 0 ? d_samp_rate : 1.0;
    for (const std::string& w : e.warnings) {
        if (d_warned.insert(w).second) {
            d_logger->warn("{}", w);
        }
    }
    const double snr_tag = std::isfinite(e.snr_db) ? e.snr_db : -300.0;
    const pmt::pmt_t kind = pmt::mp(e.kind);
    add_item_tag(0, item, pmt::mp("amc_signal"), kind);
    add_item_tag(
        0, item, pmt::mp("amc_symbol_rate"), pmt::from_double(e.symbol_rate * hz));
    add_item_tag(0, item, pmt::mp("amc_cfo"), pmt::from_double(e.cfo * hz));
    add_item_tag(0, item, pmt::mp("amc_bandwidth"), pmt::from_double(e.bandwidth * hz));
    add_item_tag(0, item, pmt::mp("amc_snr"), pmt::from_double(snr_tag));

    pmt::pmt_t warnings = pmt::make_vector(e.warnings.size(), pmt::PMT_NIL);
    for (size_t i = 0; i < e.warnings.size(); i++) {
        pmt::vector_set(warnings, i, pmt::mp(e.warnings[i]));
    }
    auto put = [](pmt::pmt_t d, const char* key, pmt::pmt_t v) {
        return pmt::dict_add(d, pmt::mp(key), v);
    };
    pmt::pmt_t d = pmt::make_dict();
    d = put(d, "kind", kind);
    d = put(d, "cfo_hz", pmt::from_double(e.cfo * hz));
    d = put(d, "bandwidth_hz", pmt::from_double(e.bandwidth * hz));
    d = put(d,
            "symbol_rate_hz",
            e.symbol_rate > 0 ? pmt::from_double(e.symbol_rate * hz) : pmt::PMT_NIL);
    d = put(d, "snr_db", pmt::from_double(std::round(e.snr_db * 100) / 100));
    d = put(d, "line", pmt::from_double(std::round(e.line * 10) / 10));
    d = put(d, "warnings", warnings);
    d = put(d, "offset", pmt::from_uint64(item));
    d = put(d, "samp_rate", pmt::from_double(d_samp_rate));
    d_estimates++;
    message_port_pub(k_port, d);
}

int signal_estimator_impl::work(int noutput_items,
                                gr_vector_const_void_star& input_items,
                                gr_vector_void_star& output_items)
{
    const gr_complex* in = static_cast<const gr_complex*>(input_items[0]);
    gr_complex* out = static_cast<gr_complex*>(output_items[0]);
    std::copy(in, in + noutput_items, out);
    const uint64_t start = nitems_read(0);
    keep(in, start, noutput_items);
    while (start + noutput_items >= d_next) { // the span is whole: estimate
        try {
            publish(smoothed(d_core.run(d_ring.data() + (d_span - d_core.size()))),
                    d_next - 1);
        } catch (const std::exception& e) { // a failed estimate must not stop the stream
            d_logger->error("estimate at sample {} failed: {}", d_next - 1, e.what());
        }
        if (d_interval < d_span) { // spans overlap when estimates are closer
            std::copy(d_ring.begin() + d_interval, d_ring.end(), d_ring.begin());
        }
        d_next += d_interval;
        keep(in, start, noutput_items);
    }
    return noutput_items;
}

} // namespace amc
} // namespace gr
