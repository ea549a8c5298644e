// Tensor storage shared by the addon's translation units. JS refers to a tensor by its slot
// number; an integer table is cheaper per op than a wrapped JS object with a finalizer,
// and tfjs disposes data explicitly anyway.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace tb {

// A float32 result not computed yet, because its only expected consumers can fuse it into
// their own pass (see fused.cc). tfjs-layers trains a conv or dense layer as
// Add(y, bias) -> Relu, and differentiates the Relu as Multiply(dy, Cast(Step(x))):
// deferred, the biased pre-activation and the 0/1 mask never reach memory.
struct Lazy {
  enum Kind { NONE, BIAS_ADD, STEP } kind = NONE;
  at::Tensor a;     // float32, contiguous
  at::Tensor bias;  // float32 [C] added along a's last dim, or undefined
  double alpha = 0;  // Step's value for non-positive inputs
};

struct Slot {
  at::Tensor t;
  // Max-pool argmax indices kept beside the pooled output, so MaxPoolGrad (which tfjs
  // hands the output) need not recompute them. Empty for every other tensor.
  at::Tensor aux;
  Lazy lazy;
};

int32_t put(at::Tensor t, at::Tensor aux = at::Tensor());
int32_t put_lazy(Lazy lazy);
// slot() leaves a lazy value pending; get() computes it (once) for consumers that cannot fuse.
Slot& slot(int32_t id);
const at::Tensor& get(int32_t id);
void release(int32_t id);
size_t live();

// Fused element-wise passes (fused.cc), each one read of every input.
at::Tensor materialize(const Lazy& lazy);
at::Tensor relu_of(const Lazy& lazy);            // relu(a + bias)
at::Tensor times_step(const at::Tensor& dy, const Lazy& step);  // dy * step(a + bias)
// Float32 sum over every axis but the last: the bias gradient, which ATen's generic
// reduction computes several times slower than a pass over memory.
at::Tensor sum_leading(const at::Tensor& x);

// Stochastic pooling (stochastic_pool.cc).
std::tuple<at::Tensor, at::Tensor> stochastic_pool(const at::Tensor& x, int64_t k, int64_t s, bool training, uint32_t seed);
at::Tensor stochastic_pool_grad(const at::Tensor& dy, const at::Tensor& arg, at::IntArrayRef input_shape);

}  // namespace tb
