// Stochastic pooling (Zeiler & Fergus 2013) in one pass over NHWC data: window sums,
// the draw and the pick happen while the window is in cache. Channels are the innermost,
// contiguous dimension, so every per-window loop runs over C and vectorises.
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <limits>

#include "slots.h"

namespace tb {
namespace {

// murmur3's finaliser: a counter-based generator, so a draw depends only on (seed, output
// element) and not on how parallel_for splits the work.
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

int64_t pooled(int64_t size, int64_t k, int64_t s) { return size <= k ? 1 : (size - k + s - 1) / s + 1; }

}  // namespace

std::tuple<at::Tensor, at::Tensor> stochastic_pool(const at::Tensor& input, int64_t k, int64_t s, bool training, uint32_t seed) {
  TORCH_CHECK(input.dim() == 4 && input.scalar_type() == at::kFloat, "StochasticPool2D expects float32 [N,H,W,C], got ", input.sizes());
  TORCH_CHECK(k >= 1 && s >= 1, "StochasticPool2D: poolSize and strides must be positive");
  TORCH_CHECK(input.numel() <= std::numeric_limits<int32_t>::max(), "StochasticPool2D: input too large for int32 argIndex");
  const at::Tensor x = input.contiguous();
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const int64_t Ho = pooled(H, k, s), Wo = pooled(W, k, s);
  at::Tensor y = at::empty({N, Ho, Wo, C}, x.options());
  at::Tensor arg = at::empty({N, Ho, Wo, C}, x.options().dtype(at::kInt));
  const float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  int32_t* ap = arg.data_ptr<int32_t>();
  const uint32_t seed_mix = fmix32(seed ^ 0x9e3779b9u);

  at::parallel_for(0, N * Ho, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> sum(C), acc(C), u(C), cum(C);
    std::vector<int32_t> count(C);
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / Ho, r0 = (row % Ho) * s, r1 = std::min(r0 + k, H);
      for (int64_t ox = 0; ox < Wo; ++ox) {
        const int64_t c0 = ox * s, c1 = std::min(c0 + k, W);
        const int64_t out = (row * Wo + ox) * C;
        float* yo = yp + out;
        int32_t* ao = ap + out;
        const int32_t top_left = static_cast<int32_t>(((n * H + r0) * W + c0) * C);
        std::fill(sum.begin(), sum.end(), 0.f);
        std::fill(acc.begin(), acc.end(), 0.f);
        for (int64_t r = r0; r < r1; ++r) {
          for (int64_t c = c0; c < c1; ++c) {
            const float* a = xp + ((n * H + r) * W + c) * C;
            if (training) {
              for (int64_t ch = 0; ch < C; ++ch) sum[ch] += a[ch];
            } else {
              for (int64_t ch = 0; ch < C; ++ch) {
                sum[ch] += a[ch];
                acc[ch] += a[ch] * a[ch];
              }
            }
          }
        }
        if (!training) {
          for (int64_t ch = 0; ch < C; ++ch) {
            yo[ch] = sum[ch] > 0.f ? acc[ch] / sum[ch] : 0.f;
            ao[ch] = top_left + static_cast<int32_t>(ch);
          }
          continue;
        }
        for (int64_t ch = 0; ch < C; ++ch) {
          const uint64_t i = static_cast<uint64_t>(out + ch);
          const uint32_t h = fmix32(fmix32(static_cast<uint32_t>(i) ^ seed_mix) + static_cast<uint32_t>(i >> 32));
          u[ch] = static_cast<float>(h >> 8) * (1.0f / 16777216.0f) * sum[ch];
          cum[ch] = 0.f;
          count[ch] = 0;
        }
        // Tap t wins when cum_{t-1} <= u < cum_t, an interval as wide as a_t, so the
        // winner's index is the number of taps with cum_t <= u; zero taps never win. This
        // form is branch-free over channels. The sums repeat the order above, so the last
        // cum equals sum exactly.
        for (int64_t r = r0; r < r1; ++r) {
          for (int64_t c = c0; c < c1; ++c) {
            const float* a = xp + ((n * H + r) * W + c) * C;
            for (int64_t ch = 0; ch < C; ++ch) {
              cum[ch] += a[ch];
              count[ch] += cum[ch] <= u[ch] ? 1 : 0;
            }
          }
        }
        const int64_t wc = c1 - c0, taps = (r1 - r0) * wc;
        for (int64_t ch = 0; ch < C; ++ch) {
          int64_t t = count[ch];
          if (t >= taps) {
            // An all-zero window gives 0 at its top-left element; a draw that rounding
            // pushed up to the sum goes to the last non-zero tap.
            t = 0;
            for (int64_t back = taps - 1; back > 0 && sum[ch] > 0.f; --back) {
              if (xp[((n * H + r0 + back / wc) * W + c0 + back % wc) * C + ch] > 0.f) {
                t = back;
                break;
              }
            }
          }
          const int64_t at = ((n * H + r0 + t / wc) * W + c0 + t % wc) * C + ch;
          yo[ch] = xp[at];
          ao[ch] = static_cast<int32_t>(at);
        }
      }
    }
  });
  return {y, arg};
}

at::Tensor stochastic_pool_grad(const at::Tensor& dy_in, const at::Tensor& arg_in, at::IntArrayRef input_shape) {
  TORCH_CHECK(input_shape.size() == 4, "StochasticPool2DGrad: inputShape must have rank 4");
  TORCH_CHECK(dy_in.sizes() == arg_in.sizes() && dy_in.dim() == 4, "StochasticPool2DGrad: dy and argIndex shapes differ");
  const at::Tensor dy = dy_in.to(at::kFloat).contiguous();
  const at::Tensor arg = arg_in.to(at::kInt).contiguous();
  at::Tensor dx = at::zeros(input_shape, dy.options());
  const int64_t N = input_shape[0], per_in = input_shape[1] * input_shape[2] * input_shape[3];
  const int64_t per_out = dy.numel() / std::max<int64_t>(dy.size(0), 1);
  TORCH_CHECK(dy.size(0) == N, "StochasticPool2DGrad: batch sizes differ");
  const float* g = dy.data_ptr<float>();
  const int32_t* idx = arg.data_ptr<int32_t>();
  float* out = dx.data_ptr<float>();
  std::atomic<bool> bad{false};
  // Overlapping windows hit the same element, but only within one image: split by image.
  at::parallel_for(0, N, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const int64_t lo = n * per_in, hi = lo + per_in;
      for (int64_t j = n * per_out; j < (n + 1) * per_out; ++j) {
        const int64_t i = idx[j];
        if (i < lo || i >= hi) {
          bad = true;
          continue;
        }
        out[i] += g[j];
      }
    }
  });
  TORCH_CHECK(!bad, "StochasticPool2DGrad: argIndex points outside its image");
  return dx;
}

}  // namespace tb
