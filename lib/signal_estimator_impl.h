/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_SIGNAL_ESTIMATOR_IMPL_H
#define INCLUDED_AMC_SIGNAL_ESTIMATOR_IMPL_H

#include <gnuradio/amc/signal_estimator.h>
#include <gnuradio/fft/fft.h>
#include <atomic>
#include <deque>
#include <set>
#include <vector>

namespace gr {
namespace amc {

//! A spectrum of a real sequence (n / 2 + 1 bins of an n-point FFT) searched for lines.
struct line_spectrum {
    std::vector<float> mag;
    std::vector<gr_complex> bins;
    size_t n = 0;
};

//! The estimate of signal_estimator::estimate() with its FFT plans, for one size.
class estimator_core
{
public:
    //! n: samples per estimate (a size FFTW plans fast).
    explicit estimator_core(size_t n);
    size_t size() const { return d_n; }
    //! Estimates x[0..size()).
    signal_estimate run(const gr_complex* x);
    //! The largest 2^k, 1.25 * 2^k or 1.5 * 2^k that is at most n.
    static size_t fft_size(size_t n);

private:
    std::vector<float> psd(const gr_complex* x);
    //! The real sequence y[0..m) (m <= size(), zero-padded), its mean removed, as a
    //! spectrum.
    const line_spectrum& spectrum_of(const float* y, size_t m);
    //! The inverse FFT of d_spec with bins further than cutoff from 0 zeroed, into out.
    void band_limit(double cutoff, std::vector<gr_complex>& out);
    void low_pass(double cutoff, float* y, size_t m);

    const size_t d_n;
    fft::fft_complex_fwd d_psd_fft, d_fwd;
    fft::fft_complex_rev d_rev;
    fft::fft_real_fwd d_real;
    std::vector<float> d_window;
    std::vector<gr_complex> d_spec, d_y, d_y_fsk;
    std::vector<float> d_seq;
    line_spectrum d_line;
};

class signal_estimator_impl : public signal_estimator
{
public:
    signal_estimator_impl(double samp_rate, int span, int interval, int smooth);

    uint64_t estimates() const override { return d_estimates; }

    int work(int noutput_items,
             gr_vector_const_void_star& input_items,
             gr_vector_void_star& output_items) override;

private:
    //! The samples x (the first at absolute sample start) that fall in the next span.
    void keep(const gr_complex* x, uint64_t start, int n);
    signal_estimate smoothed(const signal_estimate& e);
    void publish(const signal_estimate& e, uint64_t item);

    const double d_samp_rate;
    const size_t d_span;
    const uint64_t d_interval;
    const size_t d_smooth;
    std::vector<gr_complex> d_ring; // the span [d_next - span, d_next)
    uint64_t d_next;                // the sample at which the next estimate is made
    std::deque<signal_estimate> d_history;
    std::set<std::string> d_warned;
    estimator_core d_core;
    std::atomic<uint64_t> d_estimates{ 0 };
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_SIGNAL_ESTIMATOR_IMPL_H */
