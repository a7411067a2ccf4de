/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_CHANNEL_DETECTOR_IMPL_H
#define INCLUDED_AMC_CHANNEL_DETECTOR_IMPL_H

#include <gnuradio/amc/channel_detector.h>
#include <gnuradio/fft/fft.h>
#include <volk/volk_alloc.hh>
#include <atomic>
#include <deque>
#include <vector>

namespace gr {
namespace amc {

//! One signal found in one frame, in bins of the shifted spectrum (DC at fft_size / 2).
struct detection {
    int first, last;      // the occupied run
    double lo, hi;        // its -3 dB edges, interpolated
    double level, excess; // in-band level (per bin) and excess power (sum)
};

//! A signal followed across frames.
struct track {
    uint64_t id;
    int first, last;          // the occupied run of its last detection
    double center, bandwidth; // bins (smoothed)
    double level, excess;
    uint64_t first_frame, last_frame, frames_seen;
    bool announced;
};

//! The detection of one averaged spectrum: the noise floor and the runs above it.
class spectrum_analysis
{
public:
    spectrum_analysis(int fft_size, int average, double floor_quantile);
    //! The noise floor of spectrum p (per bin): its quantile over that of noise.
    double frame_floor(const std::vector<float>& p);
    //! The signals of p over floor; runs in `held` use the lower (hysteresis) level.
    std::vector<detection> detect(const std::vector<float>& p,
                                  double floor,
                                  double on,
                                  double off,
                                  const std::vector<std::pair<int, int>>& held,
                                  int gap,
                                  int min_bins) const;

private:
    const int d_n;
    const double d_quantile;
    double d_noise_quantile; // the quantile of noise alone, as a share of its mean
    std::vector<float> d_scratch;
};

class channel_detector_impl : public channel_detector
{
public:
    channel_detector_impl(double samp_rate,
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
                          double floor_quantile);

    uint64_t frames() const override { return d_frames; }
    double noise_floor_db() const override { return d_floor_db; }
    uint64_t signals_found() const override { return d_found; }
    int active() const override { return d_active; }
    pmt::pmt_t tracked() const override;

    bool stop() override;
    int work(int noutput_items,
             gr_vector_const_void_star& input_items,
             gr_vector_void_star& output_items) override;

private:
    void fft_block(const gr_complex* x);
    void analyse();
    void follow(const std::vector<detection>& found);
    void retune(double freq);
    pmt::pmt_t describe(const track& t) const;
    void publish(const char* event, const track& t);
    void report();

    const double d_samp_rate;
    double d_center;
    const int d_n, d_average;
    const double d_on, d_off; // occupied: bins over floor * d_on (d_off when tracked)
    const int d_min_bins, d_gap;
    uint64_t d_min_frames, d_hold_frames, d_report_frames;
    fft::fft_complex_fwd d_fft;
    volk::vector<float> d_window, d_power, d_acc;
    std::vector<gr_complex> d_buf; // samples waiting for a whole FFT
    int d_filled = 0, d_ffts = 0;
    spectrum_analysis d_analysis;
    std::deque<double> d_floors; // the frame floors whose median is the floor
    double d_floor = 0.0;
    std::vector<track> d_tracks;
    uint64_t d_next_id = 1, d_frame = 0;
    std::atomic<uint64_t> d_frames{ 0 }, d_found{ 0 };
    std::atomic<double> d_floor_db{ -300.0 };
    std::atomic<int> d_active{ 0 };
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_CHANNEL_DETECTOR_IMPL_H */
