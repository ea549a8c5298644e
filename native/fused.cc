// One-pass element-wise kernels over a (float32, contiguous) plus an optional per-channel
// bias, matching tfjs' float32 semantics bit for bit: the sum is rounded to float before
// relu or step look at it, as tfjs' separate Add would have stored it.
#include <ATen/Parallel.h>

#include "slots.h"

namespace tb {
namespace {

constexpr int64_t kGrain = 32768;

// tfjs Step: 1 above zero, alpha at or below, NaN stays NaN.
inline float step(float v, float alpha) { return v > 0.f ? 1.f : (v != v ? v : alpha); }
// tfjs Relu keeps NaN (x < 0 ? 0 : x).
inline float relu(float v) { return v < 0.f ? 0.f : v; }

// out[i] = f(i, a[i] + bias[i % C]); split into whole rows of C so the bias index is the
// inner loop counter and the loop vectorises.
template <class F>
at::Tensor map_biased(const Lazy& l, F f) {
  const at::Tensor& a = l.a;
  at::Tensor out = at::empty(a.sizes(), a.options());
  const float* ap = a.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const int64_t n = a.numel();
  if (!l.bias.defined()) {
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) op[i] = f(i, ap[i]);
    });
    return out;
  }
  const at::Tensor bias = l.bias.contiguous();
  const float* bp = bias.data_ptr<float>();
  const int64_t c = bias.numel();
  at::parallel_for(0, n / c, std::max<int64_t>(1, kGrain / c), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t base = r * c;
      for (int64_t j = 0; j < c; ++j) op[base + j] = f(base + j, ap[base + j] + bp[j]);
    }
  });
  return out;
}

}  // namespace

at::Tensor materialize(const Lazy& l) {
  switch (l.kind) {
    case Lazy::BIAS_ADD: return map_biased(l, [](int64_t, float v) { return v; });
    case Lazy::STEP: {
      const float alpha = static_cast<float>(l.alpha);
      return map_biased(l, [alpha](int64_t, float v) { return step(v, alpha); });
    }
    case Lazy::NONE: break;
  }
  throw std::runtime_error("torch backend: nothing to materialize");
}

at::Tensor relu_of(const Lazy& l) { return map_biased(l, [](int64_t, float v) { return relu(v); }); }

at::Tensor times_step(const at::Tensor& dy_in, const Lazy& l) {
  const at::Tensor dy = dy_in.contiguous();
  const float* g = dy.data_ptr<float>();
  const float alpha = static_cast<float>(l.alpha);
  return map_biased(l, [g, alpha](int64_t i, float v) { return g[i] * step(v, alpha); });
}

at::Tensor sum_leading(const at::Tensor& x_in) {
  const at::Tensor x = x_in.contiguous();
  const int64_t c = x.size(-1), rows = c == 0 ? 0 : x.numel() / c;
  const float* xp = x.data_ptr<float>();
  // One partial per thread, in double: 3e5 rows (conv1 at batch 128) would lose ~1e-4 in float.
  std::vector<double> partial(static_cast<size_t>(at::get_num_threads()) * c, 0.0);
  at::parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(c, 1)), [&](int64_t begin, int64_t end) {
    double* acc = partial.data() + static_cast<size_t>(at::get_thread_num()) * c;
    for (int64_t r = begin; r < end; ++r) {
      const float* row = xp + r * c;
      for (int64_t j = 0; j < c; ++j) acc[j] += row[j];
    }
  });
  at::Tensor out = at::zeros({c}, x.options());
  float* op = out.data_ptr<float>();
  for (int64_t j = 0; j < c; ++j) {
    double total = 0;
    for (size_t t = 0; t < partial.size() / std::max<int64_t>(c, 1); ++t) total += partial[t * c + j];
    op[j] = static_cast<float>(total);
  }
  return out;
}

}  // namespace tb
