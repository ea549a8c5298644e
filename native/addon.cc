// Node-API surface of the tfjs `torch` backend: tensors live in libtorch memory, JS holds
// slot numbers, and each tfjs kernel maps onto one or a few ATen calls. Every op returns
// the new tensor's slot and writes its dtype and shape into the shared `meta` array, so the
// JS side builds TensorInfos without a second call.
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <malloc.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "slots.h"

namespace tb {

namespace {
std::vector<Slot> slots;
std::vector<int32_t> free_slots;
size_t live_count = 0;
}  // namespace

namespace {
int32_t put_slot(Slot s) {
  live_count++;
  if (!free_slots.empty()) {
    const int32_t id = free_slots.back();
    free_slots.pop_back();
    slots[id] = std::move(s);
    return id;
  }
  slots.push_back(std::move(s));
  return static_cast<int32_t>(slots.size() - 1);
}
}  // namespace

int32_t put(at::Tensor t, at::Tensor aux) { return put_slot(Slot{std::move(t), std::move(aux), Lazy{}}); }

int32_t put_lazy(Lazy lazy) { return put_slot(Slot{at::Tensor(), at::Tensor(), std::move(lazy)}); }

Slot& slot(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= slots.size() || (!slots[id].t.defined() && slots[id].lazy.kind == Lazy::NONE)) {
    throw std::runtime_error("torch backend: unknown tensor slot " + std::to_string(id));
  }
  return slots[id];
}

const at::Tensor& get(int32_t id) {
  Slot& s = slot(id);
  if (!s.t.defined()) {
    s.t = materialize(s.lazy);
    s.lazy = Lazy{};
  }
  return s.t;
}

void release(int32_t id) {
  slot(id) = Slot{};
  free_slots.push_back(id);
  live_count--;
}

size_t live() { return live_count; }

namespace {

constexpr int kMetaSize = 16;
int32_t* meta = nullptr;
Napi::Reference<Napi::Int32Array> meta_ref;

// tfjs dtypes, in the order of the JS side's DTYPES table.
enum DType : int32_t { F32 = 0, I32 = 1, BOOL = 2 };

at::ScalarType scalar_type(int32_t code) {
  switch (code) {
    case F32: return at::kFloat;
    case I32: return at::kInt;
    case BOOL: return at::kBool;
  }
  throw std::runtime_error("torch backend: unsupported dtype code " + std::to_string(code));
}

int32_t dtype_code(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return F32;
    case at::kInt: return I32;
    case at::kBool: return BOOL;
    default: throw std::runtime_error(std::string("torch backend: no tfjs dtype for ") + c10::toString(t));
  }
}

void describe_into(at::IntArrayRef sizes, at::ScalarType type) {
  if (sizes.size() > kMetaSize - 2) throw std::runtime_error("torch backend: rank too high");
  meta[0] = dtype_code(type);
  meta[1] = static_cast<int32_t>(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) meta[2 + i] = static_cast<int32_t>(sizes[i]);
}

bool is_lazy(const Slot& s) { return !s.t.defined(); }
at::IntArrayRef sizes_of(const Slot& s) { return is_lazy(s) ? s.lazy.a.sizes() : s.t.sizes(); }
at::ScalarType type_of(const Slot& s) { return is_lazy(s) ? at::kFloat : s.t.scalar_type(); }

// tfjs has no int64 or float64: ATen results of those types are narrowed here.
Napi::Value out(Napi::Env env, at::Tensor t, at::Tensor aux = at::Tensor()) {
  if (t.scalar_type() == at::kLong) t = t.to(at::kInt);
  if (t.scalar_type() == at::kDouble) t = t.to(at::kFloat);
  describe_into(t.sizes(), t.scalar_type());
  return Napi::Number::New(env, put(std::move(t), std::move(aux)));
}

Napi::Value out_lazy(Napi::Env env, Lazy lazy) {
  describe_into(lazy.a.sizes(), at::kFloat);
  return Napi::Number::New(env, put_lazy(std::move(lazy)));
}

int32_t i32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
double f64(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
bool flag(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }
const at::Tensor& T(const Napi::CallbackInfo& info, size_t i) { return get(i32(info, i)); }

std::vector<int64_t> ints(const Napi::Value& v) {
  std::vector<int64_t> r;
  if (v.IsTypedArray()) {
    auto a = v.As<Napi::Int32Array>();
    r.assign(a.Data(), a.Data() + a.ElementLength());
    return r;
  }
  auto a = v.As<Napi::Array>();
  r.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) r.push_back(a.Get(i).As<Napi::Number>().Int64Value());
  return r;
}

std::vector<at::Tensor> tensors(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  std::vector<at::Tensor> r;
  r.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) r.push_back(get(a.Get(i).As<Napi::Number>().Int32Value()));
  return r;
}

using Fn = Napi::Value (*)(const Napi::CallbackInfo&);

// libtorch reports errors as c10::Error (with a C++ backtrace in what()); JS gets the message.
template <Fn F>
Napi::Value guard(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string("torch: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("torch: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------
// Storage

// Every op allocates its result, and glibc serves blocks above its mmap threshold (at most
// 32 MiB) with fresh mmaps: each first touch then page-faults, which costs more than the
// op itself for activation-sized tensors. Keeping freed memory in the heap makes the next
// step reuse it. Opt out with init(meta, threads, false).
void keep_freed_memory() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  if (info.Length() < 3 || info[2].ToBoolean().Value()) keep_freed_memory();
  auto m = info[0].As<Napi::Int32Array>();
  if (m.ElementLength() < kMetaSize) throw std::runtime_error("meta array too short");
  meta_ref = Napi::Persistent(m);
  meta = m.Data();
  if (info.Length() > 1 && info[1].IsNumber()) at::set_num_threads(i32(info, 1));
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads(i32(info, 0));
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  const auto shape = ints(info[1]);
  const auto type = scalar_type(i32(info, 2));
  if (info[0].IsNull() || info[0].IsUndefined()) return out(info.Env(), at::zeros(shape, at::TensorOptions(type)));
  auto a = info[0].As<Napi::TypedArray>();
  at::Tensor t = at::empty(shape, at::TensorOptions(type));
  const size_t bytes = t.numel() * t.element_size();
  if (a.ByteLength() < bytes) throw std::runtime_error("torch backend: write of " + std::to_string(a.ByteLength()) + " bytes into a tensor of " + std::to_string(bytes));
  std::memcpy(t.data_ptr(), static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(), bytes);
  return out(info.Env(), std::move(t));
}

Napi::Value Read(const Napi::CallbackInfo& info) {
  const at::Tensor t = T(info, 0).contiguous();
  const size_t n = t.numel();
  Napi::Env env = info.Env();
  auto buf = Napi::ArrayBuffer::New(env, n * t.element_size());
  if (n > 0) std::memcpy(buf.Data(), t.data_ptr(), n * t.element_size());
  switch (t.scalar_type()) {
    case at::kFloat: return Napi::Float32Array::New(env, n, buf, 0);
    case at::kInt: return Napi::Int32Array::New(env, n, buf, 0);
    case at::kBool: return Napi::Uint8Array::New(env, n, buf, 0);
    default: throw std::runtime_error("torch backend: cannot read this dtype");
  }
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  release(i32(info, 0));
  return info.Env().Undefined();
}

Napi::Value Live(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(live())); }

Napi::Value Describe(const Napi::CallbackInfo& info) {
  const Slot& s = slot(i32(info, 0));
  describe_into(sizes_of(s), type_of(s));
  return info[0];
}

// ---------------------------------------------------------------------------------------
// Element-wise

// tfjs Step: 1 where x > 0, alpha elsewhere, NaN stays NaN.
at::Tensor step(const at::Tensor& x, double alpha) {
  at::Tensor r = at::where(x > 0, at::scalar_tensor(1.0, x.options()), at::scalar_tensor(alpha, x.options()));
  return at::where(at::isnan(x), x, r);
}

at::Tensor as_float(const at::Tensor& x) { return at::isFloatingType(x.scalar_type()) ? x : x.to(at::kFloat); }

const std::vector<std::string> kUnary = {
    "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "ClipByValue", "Cos", "Cosh", "Elu", "Erf",
    "Exp", "Expm1", "Floor", "IsFinite", "IsInf", "IsNan", "LeakyRelu", "Log", "Log1p", "LogicalNot", "Neg",
    "Reciprocal", "Relu", "Relu6", "Round", "Rsqrt", "Selu", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Sqrt",
    "Square", "Step", "Tan", "Tanh"};

at::Tensor unary(const std::string& op, const at::Tensor& x, double a, double b) {
  if (op == "Abs") return at::abs(x);
  if (op == "Acos") return at::acos(as_float(x));
  if (op == "Acosh") return at::acosh(as_float(x));
  if (op == "Asin") return at::asin(as_float(x));
  if (op == "Asinh") return at::asinh(as_float(x));
  if (op == "Atan") return at::atan(as_float(x));
  if (op == "Atanh") return at::atanh(as_float(x));
  if (op == "Ceil") return at::ceil(x);
  if (op == "ClipByValue") return at::clamp(x, a, b);
  if (op == "Cos") return at::cos(as_float(x));
  if (op == "Cosh") return at::cosh(as_float(x));
  if (op == "Elu") return at::elu(x);
  if (op == "Erf") return at::erf(as_float(x));
  if (op == "Exp") return at::exp(as_float(x));
  if (op == "Expm1") return at::expm1(as_float(x));
  if (op == "Floor") return at::floor(x);
  if (op == "IsFinite") return at::isfinite(x);
  if (op == "IsInf") return at::isinf(x);
  if (op == "IsNan") return at::isnan(x);
  if (op == "LeakyRelu") return at::where(x >= 0, x, x * a);
  if (op == "Log") return at::log(as_float(x));
  if (op == "Log1p") return at::log1p(as_float(x));
  if (op == "LogicalNot") return at::logical_not(x);
  if (op == "Neg") return at::neg(x);
  if (op == "Reciprocal") return at::reciprocal(as_float(x));
  if (op == "Relu") return at::relu(x);
  if (op == "Relu6") return at::clamp(x, 0, 6);
  if (op == "Round") return at::round(x);
  if (op == "Rsqrt") return at::rsqrt(as_float(x));
  if (op == "Selu") return at::selu(x);
  if (op == "Sigmoid") return at::sigmoid(as_float(x));
  if (op == "Sign") return at::sign(x);
  if (op == "Sin") return at::sin(as_float(x));
  if (op == "Sinh") return at::sinh(as_float(x));
  if (op == "Softplus") return at::softplus(x);
  if (op == "Sqrt") return at::sqrt(as_float(x));
  if (op == "Square") return at::mul(x, x);
  if (op == "Step") return step(x, a);
  if (op == "Tan") return at::tan(as_float(x));
  if (op == "Tanh") return at::tanh(as_float(x));
  throw std::runtime_error("torch backend: unknown unary op " + op);
}

const std::vector<std::string> kBinary = {
    "Add", "Atan2", "Equal", "FloorDiv", "Greater", "GreaterEqual", "Less", "LessEqual",
    "LogicalAnd", "LogicalOr", "Maximum", "Minimum", "Mod", "Multiply", "NotEqual", "Pow", "Prelu", "RealDiv",
    "SquaredDifference", "Sub"};

at::Tensor binary(const std::string& op, const at::Tensor& a, const at::Tensor& b) {
  if (op == "Add") return at::add(a, b);
  if (op == "Atan2") return at::atan2(as_float(a), as_float(b));
  if (op == "Equal") return at::eq(a, b);
  // tfjs' FloorDiv always yields int32, float inputs included.
  if (op == "FloorDiv") return at::div(a, b, "floor").to(at::kInt);
  if (op == "Greater") return at::gt(a, b);
  if (op == "GreaterEqual") return at::ge(a, b);
  if (op == "Less") return at::lt(a, b);
  if (op == "LessEqual") return at::le(a, b);
  if (op == "LogicalAnd") return at::logical_and(a, b);
  if (op == "LogicalOr") return at::logical_or(a, b);
  if (op == "Maximum") return at::maximum(a, b);
  if (op == "Minimum") return at::minimum(a, b);
  if (op == "Mod") return at::remainder(a, b);
  if (op == "Multiply") return at::mul(a, b);
  if (op == "NotEqual") return at::ne(a, b);
  if (op == "Pow") return at::pow(a, b);
  if (op == "Prelu") return at::where(a >= 0, a, a * b);
  if (op == "RealDiv") return at::div(a, b);
  if (op == "SquaredDifference") {
    at::Tensor d = at::sub(a, b);
    return d.mul_(d);
  }
  if (op == "Sub") return at::sub(a, b);
  throw std::runtime_error("torch backend: unknown binary op " + op);
}

// Ops are named by index into the tables above; the JS side resolves names once at load.
template <const std::vector<std::string>* Table>
const std::string& op_name(const Napi::CallbackInfo& info, size_t i) {
  const int32_t code = i32(info, i);
  if (code < 0 || static_cast<size_t>(code) >= Table->size()) throw std::runtime_error("torch backend: bad op code");
  return (*Table)[code];
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  const std::string& op = op_name<&kUnary>(info, 0);
  const Slot& x = slot(i32(info, 1));
  if (op == "Relu" && is_lazy(x) && x.lazy.kind == Lazy::BIAS_ADD) return out(info.Env(), relu_of(x.lazy));
  if (op == "Step" && type_of(x) == at::kFloat && !(is_lazy(x) && x.lazy.kind == Lazy::STEP)) {
    Lazy step = is_lazy(x) ? x.lazy : Lazy{Lazy::NONE, x.t.contiguous(), at::Tensor(), 0};
    step.kind = Lazy::STEP;
    step.alpha = f64(info, 2);
    return out_lazy(info.Env(), std::move(step));
  }
  return out(info.Env(), unary(op, T(info, 1), f64(info, 2), f64(info, 3)));
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  const std::string& op = op_name<&kBinary>(info, 0);
  const Slot& a = slot(i32(info, 1));
  const Slot& b = slot(i32(info, 2));
  if (op == "Add" && !is_lazy(a) && !is_lazy(b) && a.t.scalar_type() == at::kFloat && b.t.scalar_type() == at::kFloat &&
      a.t.dim() >= 2 && b.t.dim() == 1 && b.t.numel() == a.t.size(-1) && b.t.numel() > 0) {
    return out_lazy(info.Env(), Lazy{Lazy::BIAS_ADD, a.t.contiguous(), b.t, 0});
  }
  if (op == "Multiply") {
    for (const auto& [mask, other] : {std::pair{&b, &a}, std::pair{&a, &b}}) {
      if (is_lazy(*mask) && mask->lazy.kind == Lazy::STEP && type_of(*other) == at::kFloat && sizes_of(*other) == sizes_of(*mask)) {
        return out(info.Env(), times_step(get(i32(info, other == &a ? 1 : 2)), mask->lazy));
      }
    }
  }
  return out(info.Env(), binary(op, T(info, 1), T(info, 2)));
}

Napi::Value Cast(const Napi::CallbackInfo& info) {
  const int32_t id = i32(info, 0);
  const auto type = scalar_type(i32(info, 1));
  // Same dtype: share the storage (or the pending value); no op here writes into an input.
  if (type_of(slot(id)) == type) {
    Slot copy = slot(id);
    describe_into(sizes_of(copy), type);
    return Napi::Number::New(info.Env(), put_slot(std::move(copy)));
  }
  return out(info.Env(), get(id).to(type));
}

Napi::Value AddN(const Napi::CallbackInfo& info) {
  const auto xs = tensors(info[0]);
  if (xs.empty()) throw std::runtime_error("AddN of nothing");
  at::Tensor sum = xs.size() == 1 ? xs[0].clone() : at::add(xs[0], xs[1]);
  for (size_t i = 2; i < xs.size(); ++i) sum.add_(xs[i]);
  return out(info.Env(), std::move(sum));
}

Napi::Value Select(const Napi::CallbackInfo& info) {
  return out(info.Env(), at::where(T(info, 0).to(at::kBool), T(info, 1), T(info, 2)));
}

// ---------------------------------------------------------------------------------------
// Reductions

const std::vector<std::string> kReduce = {"All", "Any", "ArgMax", "ArgMin", "Max", "Mean", "Min", "Prod", "Sum"};

at::Tensor reduce(const std::string& op, const at::Tensor& x, const std::vector<int64_t>& axes, bool keep) {
  if (op == "ArgMax" || op == "ArgMin") {
    const int64_t axis = axes.empty() ? 0 : axes[0];
    return (op == "ArgMax" ? at::argmax(x, axis, keep) : at::argmin(x, axis, keep)).to(at::kInt);
  }
  // ATen reads an empty dim list as "all dims"; tfjs as "none".
  if (axes.empty()) {
    if (op == "Mean") return as_float(x);
    if (op == "Any" || op == "All") return x.to(at::kBool);
    if ((op == "Sum" || op == "Prod") && x.scalar_type() == at::kBool) return x.to(at::kInt);
    return x;
  }
  if (op == "Sum" && x.scalar_type() == at::kFloat && x.dim() >= 2 && axes.size() == static_cast<size_t>(x.dim() - 1)) {
    std::vector<int64_t> sorted(axes);
    std::sort(sorted.begin(), sorted.end());
    bool leading = true;
    for (size_t i = 0; i < sorted.size(); ++i) leading &= sorted[i] == static_cast<int64_t>(i);
    if (leading) {
      at::Tensor r = sum_leading(x);
      if (!keep) return r;
      std::vector<int64_t> shape(x.dim(), 1);
      shape.back() = x.size(-1);
      return r.view(shape);
    }
  }
  if (op == "Sum") {
    const auto type = x.scalar_type() == at::kFloat ? at::kFloat : at::kInt;
    return at::sum(x, axes, keep, type);
  }
  if (op == "Mean") return at::mean(as_float(x), axes, keep);
  if (op == "Max") return at::amax(x, axes, keep);
  if (op == "Min") return at::amin(x, axes, keep);
  at::Tensor r = x;
  // prod/any/all take one dim at a time; go from the last so earlier indices stay valid.
  std::vector<int64_t> sorted(axes);
  std::sort(sorted.rbegin(), sorted.rend());
  for (int64_t d : sorted) {
    if (op == "Prod") r = at::prod(r, d, keep, x.scalar_type() == at::kFloat ? at::kFloat : at::kInt);
    else if (op == "Any") r = at::any(r.to(at::kBool), d, keep);
    else if (op == "All") r = at::all(r.to(at::kBool), d, keep);
    else throw std::runtime_error("torch backend: unknown reduction " + op);
  }
  return r;
}

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  return out(info.Env(), reduce(op_name<&kReduce>(info, 0), T(info, 1), ints(info[2]), flag(info, 3)));
}

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return out(info.Env(), at::softmax(T(info, 0), i32(info, 1)));
}

// ---------------------------------------------------------------------------------------
// Shapes and indexing. Reshape, transpose and slice return views: inputs are never
// written to, so sharing storage is safe, and libtorch frees it with the last view.

Napi::Value Reshape(const Napi::CallbackInfo& info) { return out(info.Env(), T(info, 0).reshape(ints(info[1]))); }

Napi::Value Transpose(const Napi::CallbackInfo& info) { return out(info.Env(), T(info, 0).permute(ints(info[1]))); }

Napi::Value Slice(const Napi::CallbackInfo& info) {
  at::Tensor t = T(info, 0);
  const auto begin = ints(info[1]), size = ints(info[2]);
  for (size_t d = 0; d < begin.size(); ++d) t = t.narrow(static_cast<int64_t>(d), begin[d], size[d]);
  return out(info.Env(), std::move(t));
}

Napi::Value StridedSlice(const Napi::CallbackInfo& info) {
  at::Tensor t = T(info, 0);
  const auto begin = ints(info[1]), end = ints(info[2]), strides = ints(info[3]);
  for (size_t d = 0; d < begin.size(); ++d) {
    const int64_t stop = std::max(begin[d], end[d]);
    t = t.slice(static_cast<int64_t>(d), begin[d], stop, strides[d]);
  }
  return out(info.Env(), t.reshape(ints(info[4])));
}

Napi::Value Concat(const Napi::CallbackInfo& info) { return out(info.Env(), at::cat(tensors(info[0]), i32(info, 1))); }

Napi::Value Stack(const Napi::CallbackInfo& info) { return out(info.Env(), at::stack(tensors(info[0]), i32(info, 1))); }

Napi::Value Unstack(const Napi::CallbackInfo& info) {
  const auto parts = at::unbind(T(info, 0), i32(info, 1));
  Napi::Env env = info.Env();
  auto ids = Napi::Array::New(env, parts.size());
  for (size_t i = 0; i < parts.size(); ++i) ids.Set(static_cast<uint32_t>(i), out(env, parts[i]));
  return ids;
}

// pads: [before0, after0, before1, after1, ...] in tfjs order; ATen wants the last dim first.
Napi::Value Pad(const Napi::CallbackInfo& info) {
  const auto p = ints(info[1]);
  std::vector<int64_t> rev;
  for (size_t d = p.size() / 2; d-- > 0;) {
    rev.push_back(p[2 * d]);
    rev.push_back(p[2 * d + 1]);
  }
  return out(info.Env(), at::constant_pad_nd(T(info, 0), rev, f64(info, 2)));
}

Napi::Value Tile(const Napi::CallbackInfo& info) { return out(info.Env(), T(info, 0).repeat(ints(info[1]))); }

Napi::Value Reverse(const Napi::CallbackInfo& info) { return out(info.Env(), at::flip(T(info, 0), ints(info[1]))); }

Napi::Value Gather(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const at::Tensor& idx = T(info, 1);
  const int64_t axis = i32(info, 2);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
  shape.insert(shape.end(), idx.sizes().begin(), idx.sizes().end());
  shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
  return out(info.Env(), at::index_select(x, axis, idx.reshape({-1}).to(at::kLong)).reshape(shape));
}

Napi::Value OneHot(const Napi::CallbackInfo& info) {
  const at::Tensor& idx = T(info, 0);
  const int64_t depth = i32(info, 1);
  const auto type = scalar_type(i32(info, 4));
  // Comparing with arange (not at::one_hot) gives tfjs' all-off rows for out-of-range indices.
  const at::Tensor hit = idx.unsqueeze(-1) == at::arange(depth, idx.options());
  return out(info.Env(), at::where(hit, at::scalar_tensor(f64(info, 2), at::TensorOptions(type)), at::scalar_tensor(f64(info, 3), at::TensorOptions(type))).to(type));
}

Napi::Value Fill(const Napi::CallbackInfo& info) {
  return out(info.Env(), at::full(ints(info[0]), f64(info, 1), at::TensorOptions(scalar_type(i32(info, 2)))));
}

Napi::Value ZerosLike(const Napi::CallbackInfo& info) { return out(info.Env(), at::zeros(T(info, 0).sizes(), T(info, 0).options())); }

Napi::Value OnesLike(const Napi::CallbackInfo& info) { return out(info.Env(), at::ones(T(info, 0).sizes(), T(info, 0).options())); }

// ---------------------------------------------------------------------------------------
// Fused activations (tfjs' FusedConv2D / _FusedMatMul), applied in place on a fresh result.

enum Act : int32_t { LINEAR = 0, RELU = 1, RELU6 = 2, ELU = 3, LEAKY = 4, SIGMOID = 5, PRELU = 6 };

at::Tensor activate(at::Tensor y, int32_t act, double alpha, const at::Tensor& prelu_w) {
  switch (act) {
    case LINEAR: return y;
    case RELU: return y.relu_();
    case RELU6: return y.clamp_(0, 6);
    case ELU: return at::elu(y);
    case LEAKY: return at::where(y >= 0, y, y * alpha);
    case SIGMOID: return y.sigmoid_();
    case PRELU: return at::where(y >= 0, y, y * prelu_w);
  }
  throw std::runtime_error("torch backend: unknown activation");
}

at::Tensor optional_tensor(const Napi::CallbackInfo& info, size_t i) {
  const int32_t id = i32(info, i);
  return id < 0 ? at::Tensor() : get(id);
}

// matmul(a, b, transposeA, transposeB, bias, activation, alpha, preluWeights)
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  at::Tensor a = T(info, 0), b = T(info, 1);
  if (flag(info, 2)) a = a.transpose(-1, -2);
  if (flag(info, 3)) b = b.transpose(-1, -2);
  const at::Tensor bias = optional_tensor(info, 4);
  at::Tensor y;
  // The dense layers arrive as [1,M,K] x [1,K,N]: a plain GEMM, with the bias folded in.
  if (a.dim() == 3 && b.dim() == 3 && a.size(0) == 1 && b.size(0) == 1) {
    const at::Tensor a2 = a[0], b2 = b[0];
    y = (bias.defined() && bias.dim() <= 1 ? at::addmm(bias, a2, b2) : at::mm(a2, b2)).unsqueeze(0);
    if (bias.defined() && bias.dim() > 1) y.add_(bias);
  } else {
    y = at::matmul(a, b);
    if (bias.defined()) y.add_(bias);
  }
  return out(info.Env(), activate(std::move(y), i32(info, 5), f64(info, 6), optional_tensor(info, 7)));
}

// ---------------------------------------------------------------------------------------
// Convolution and pooling. tfjs data is NHWC; permuting it to NCHW gives a channels_last
// view without a copy, which sends ATen to oneDNN's NHWC kernels. Results come back the
// same way, so the final .contiguous() is free when ATen kept channels_last.

at::Tensor nchw(const at::Tensor& nhwc) { return nhwc.contiguous().permute({0, 3, 1, 2}); }
at::Tensor nhwc(const at::Tensor& nchw) { return nchw.permute({0, 2, 3, 1}).contiguous(); }
// HWIO (tfjs) -> OIHW with channels_last strides: a small copy of the weights per call.
at::Tensor oihw(const at::Tensor& hwio) { return hwio.permute({3, 2, 0, 1}).contiguous(at::MemoryFormat::ChannelsLast); }

struct ConvGeom {
  std::vector<int64_t> stride, dilation, pad;  // pad: top, bottom, left, right (tfjs padInfo)
  bool symmetric() const { return pad[0] == pad[1] && pad[2] == pad[3]; }
  std::vector<int64_t> torch_pad() const { return symmetric() ? std::vector<int64_t>{pad[0], pad[2]} : std::vector<int64_t>{0, 0}; }
  // Asymmetric 'same' padding (even kernels, strides) cannot be expressed to ATen's conv.
  at::Tensor pad_input(const at::Tensor& x) const {
    return symmetric() ? x : at::constant_pad_nd(x, {pad[2], pad[3], pad[0], pad[1]}).contiguous(at::MemoryFormat::ChannelsLast);
  }
};

ConvGeom geom(const Napi::CallbackInfo& info, size_t at) { return ConvGeom{ints(info[at]), ints(info[at + 1]), ints(info[at + 2])}; }

// conv2d(x, filter, bias, activation, alpha, preluWeights, strides, dilations, pads)
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  const ConvGeom g = geom(info, 6);
  const at::Tensor bias = optional_tensor(info, 2);
  const bool vector_bias = bias.defined() && bias.numel() == T(info, 1).size(3) && bias.dim() <= 1;
  at::Tensor y = at::convolution(g.pad_input(nchw(T(info, 0))), oihw(T(info, 1)),
                                 vector_bias ? c10::optional<at::Tensor>(bias.reshape({-1})) : c10::nullopt,
                                 g.stride, g.torch_pad(), g.dilation, false, {0, 0}, 1);
  at::Tensor r = nhwc(y);
  if (bias.defined() && !vector_bias) r.add_(bias);
  return out(info.Env(), activate(std::move(r), i32(info, 3), f64(info, 4), optional_tensor(info, 5)));
}

// conv2dBackpropInput(dy, filter, inputShape NHWC, strides, dilations, pads)
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  const ConvGeom g = geom(info, 3);
  const auto in = ints(info[2]);
  const int64_t hp = in[1] + g.pad[0] + g.pad[1] - (g.symmetric() ? g.pad[0] + g.pad[1] : 0);
  const int64_t wp = in[2] + g.pad[2] + g.pad[3] - (g.symmetric() ? g.pad[2] + g.pad[3] : 0);
  // Only the input's shape and layout matter for dX; its contents are never read.
  const at::Tensor shape_only = at::empty({in[0], in[3], hp, wp}, T(info, 0).options().memory_format(at::MemoryFormat::ChannelsLast));
  auto grads = at::convolution_backward(nchw(T(info, 0)), shape_only, oihw(T(info, 1)), c10::nullopt, g.stride, g.torch_pad(),
                                        g.dilation, false, {0, 0}, 1, {true, false, false});
  at::Tensor dx = std::get<0>(grads);
  if (!g.symmetric()) dx = dx.narrow(2, g.pad[0], in[1]).narrow(3, g.pad[2], in[2]);
  return out(info.Env(), nhwc(dx));
}

// conv2dBackpropFilter(x, dy, filterShape HWIO, strides, dilations, pads)
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  const ConvGeom g = geom(info, 3);
  const auto f = ints(info[2]);
  const at::Tensor& x = T(info, 0);
  const at::Tensor shape_only = at::empty({f[3], f[2], f[0], f[1]}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
  auto grads = at::convolution_backward(nchw(T(info, 1)), g.pad_input(nchw(x)), shape_only, c10::nullopt, g.stride, g.torch_pad(),
                                        g.dilation, false, {0, 0}, 1, {false, true, false});
  return out(info.Env(), std::get<1>(grads).permute({2, 3, 1, 0}).contiguous());
}

// tfjs' max-pool padding (top/bottom/left/right, the far side often larger) mapped onto
// ATen's symmetric padding plus ceil mode, or, failing that, explicit -inf padding.
struct PoolGeom {
  std::vector<int64_t> k, s, pad;  // pad: top, bottom, left, right
  std::vector<int64_t> out;        // tfjs output H, W
  bool explicit_pad = false;
  bool ceil = false;
  std::vector<int64_t> torch_pad{0, 0};

  static int64_t torch_out(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil) {
    int64_t o = (in + 2 * p - k + (ceil ? s - 1 : 0)) / s + 1;
    if (ceil && (o - 1) * s >= in + p) --o;
    return o;
  }
  void resolve(int64_t h, int64_t w) {
    for (bool c : {false, true}) {
      const int64_t ph = pad[0], pw = pad[2];
      if (2 * ph <= k[0] && 2 * pw <= k[1] && torch_out(h, k[0], s[0], ph, c) == out[0] &&
          torch_out(w, k[1], s[1], pw, c) == out[1]) {
        ceil = c;
        torch_pad = {ph, pw};
        return;
      }
    }
    explicit_pad = true;
  }
  at::Tensor input(const at::Tensor& x) const {
    if (!explicit_pad) return x;
    return at::constant_pad_nd(x, {pad[2], pad[3], pad[0], pad[1]}, -std::numeric_limits<double>::infinity())
        .contiguous(at::MemoryFormat::ChannelsLast);
  }
};

PoolGeom pool_geom(const Napi::CallbackInfo& info, size_t at, const at::Tensor& x_nhwc) {
  PoolGeom g{ints(info[at]), ints(info[at + 1]), ints(info[at + 2]), ints(info[at + 3])};
  g.resolve(x_nhwc.size(1), x_nhwc.size(2));
  return g;
}

// maxPool(x, filterSize, strides, pads, outHW)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const PoolGeom g = pool_geom(info, 1, x);
  auto r = at::max_pool2d_with_indices(g.input(nchw(x)), g.k, g.s, g.torch_pad, {1, 1}, g.ceil);
  return out(info.Env(), nhwc(std::get<0>(r)), std::get<1>(r));
}

// maxPoolGrad(dy, x, y, filterSize, strides, pads, outHW)
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 1);
  const PoolGeom g = pool_geom(info, 3, x);
  const at::Tensor xin = g.input(nchw(x));
  at::Tensor idx = slot(i32(info, 2)).aux;
  if (!idx.defined()) idx = std::get<1>(at::max_pool2d_with_indices(xin, g.k, g.s, g.torch_pad, {1, 1}, g.ceil));
  at::Tensor dx = at::max_pool2d_with_indices_backward(nchw(T(info, 0)), xin, g.k, g.s, g.torch_pad, {1, 1}, g.ceil, idx);
  if (g.explicit_pad) dx = dx.narrow(2, g.pad[0], x.size(1)).narrow(3, g.pad[2], x.size(2));
  return out(info.Env(), nhwc(dx));
}

Napi::Value StochasticPool(const Napi::CallbackInfo& info) {
  auto r = stochastic_pool(T(info, 0), i32(info, 1), i32(info, 2), flag(info, 3),
                           static_cast<uint32_t>(info[4].As<Napi::Number>().Int64Value()));
  Napi::Env env = info.Env();
  auto ids = Napi::Array::New(env, 2);
  ids.Set(0u, out(env, std::get<0>(r)));
  ids.Set(1u, out(env, std::get<1>(r)));
  return ids;
}

Napi::Value StochasticPoolGrad(const Napi::CallbackInfo& info) {
  return out(info.Env(), stochastic_pool_grad(T(info, 0), T(info, 1), ints(info[2])));
}

Napi::Array names(Napi::Env env, const std::vector<std::string>& table) {
  auto a = Napi::Array::New(env, table.size());
  for (size_t i = 0; i < table.size(); ++i) a.Set(static_cast<uint32_t>(i), table[i]);
  return a;
}

Napi::Object module_exports(Napi::Env env, Napi::Object exports) {
  const std::pair<const char*, Fn> fns[] = {
      {"init", guard<Init>},
      {"setThreads", guard<SetThreads>},
      {"write", guard<Write>},
      {"read", guard<Read>},
      {"free", guard<Free>},
      {"live", guard<Live>},
      {"describe", guard<Describe>},
      {"unary", guard<Unary>},
      {"binary", guard<Binary>},
      {"cast", guard<Cast>},
      {"addN", guard<AddN>},
      {"select", guard<Select>},
      {"reduce", guard<Reduce>},
      {"softmax", guard<Softmax>},
      {"reshape", guard<Reshape>},
      {"transpose", guard<Transpose>},
      {"slice", guard<Slice>},
      {"stridedSlice", guard<StridedSlice>},
      {"concat", guard<Concat>},
      {"stack", guard<Stack>},
      {"unstack", guard<Unstack>},
      {"pad", guard<Pad>},
      {"tile", guard<Tile>},
      {"reverse", guard<Reverse>},
      {"gather", guard<Gather>},
      {"oneHot", guard<OneHot>},
      {"fill", guard<Fill>},
      {"zerosLike", guard<ZerosLike>},
      {"onesLike", guard<OnesLike>},
      {"matMul", guard<MatMul>},
      {"conv2d", guard<Conv2D>},
      {"conv2dBackpropInput", guard<Conv2DBackpropInput>},
      {"conv2dBackpropFilter", guard<Conv2DBackpropFilter>},
      {"maxPool", guard<MaxPool>},
      {"maxPoolGrad", guard<MaxPoolGrad>},
      {"stochasticPool", guard<StochasticPool>},
      {"stochasticPoolGrad", guard<StochasticPoolGrad>},
  };
  for (const auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
  exports.Set("unaryOps", names(env, kUnary));
  exports.Set("binaryOps", names(env, kBinary));
  exports.Set("reduceOps", names(env, kReduce));
  exports.Set("torchVersion", TORCH_VERSION);
  return exports;
}

}  // namespace
}  // namespace tb

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tb::module_exports(env, exports); }

NODE_API_MODULE(torch_backend, InitModule)
