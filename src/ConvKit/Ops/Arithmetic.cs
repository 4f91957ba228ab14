namespace ConvKit;

public partial class Tensor
{
    // Broadcasting arithmetic. Each backward reduces the gradient back to the operand's shape.

    public static Tensor operator +(Tensor a, Tensor b) =>
        Autograd.Record(Elementwise.Binary<AddOp>(a, b, "add"), [a, b], g => [g.SumToShape(a.Sizes), g.SumToShape(b.Sizes)]);

    public static Tensor operator -(Tensor a, Tensor b) =>
        Autograd.Record(Elementwise.Binary<SubOp>(a, b, "sub"), [a, b], g => [g.SumToShape(a.Sizes), (-g).SumToShape(b.Sizes)]);

    public static Tensor operator *(Tensor a, Tensor b)
    {
        if (PlaneScale.Planes(a, b) is > 0 and var planes) return PlaneScale.Multiply(a, b, planes);
        if (PlaneScale.Planes(b, a) is > 0 and var gated) return PlaneScale.Multiply(b, a, gated);
        return BroadcastMultiply(a, b);
    }

    private static Tensor BroadcastMultiply(Tensor a, Tensor b) =>
        Autograd.Record(Elementwise.Binary<MulOp>(a, b, "mul"), [a, b], g => [
            a.RequiresGrad ? (g * b.Detach()).SumToShape(a.Sizes) : null,
            b.RequiresGrad ? (g * a.Detach()).SumToShape(b.Sizes) : null]);

    public static Tensor operator /(Tensor a, Tensor b) =>
        Autograd.Record(Elementwise.Binary<DivOp>(a, b, "div"), [a, b], g => [
            a.RequiresGrad ? (g / b.Detach()).SumToShape(a.Sizes) : null,
            b.RequiresGrad ? (-g * a.Detach() / (b.Detach() * b.Detach())).SumToShape(b.Sizes) : null]);

    public static Tensor operator -(Tensor a) =>
        Autograd.Record(Elementwise.Unary<NegOp>(a), a, g => -g);

    public static Tensor operator +(Tensor a, float s) => a + Scalar(s);
    public static Tensor operator +(float s, Tensor a) => Scalar(s) + a;
    public static Tensor operator -(Tensor a, float s) => a - Scalar(s);
    public static Tensor operator -(float s, Tensor a) => Scalar(s) - a;
    public static Tensor operator *(Tensor a, float s) => a * Scalar(s);
    public static Tensor operator *(float s, Tensor a) => Scalar(s) * a;
    public static Tensor operator /(Tensor a, float s) => a / Scalar(s);
    public static Tensor operator /(float s, Tensor a) => Scalar(s) / a;

    public Tensor Add(Tensor other) => this + other;
    public Tensor Sub(Tensor other) => this - other;
    public Tensor Mul(Tensor other) => this * other;
    public Tensor Div(Tensor other) => this / other;
    public Tensor Neg() => -this;

    /// <summary>Element-wise power with a broadcast tensor exponent (<c>torch.pow(self, exponent)</c>).</summary>
    public Tensor Pow(Tensor exponent)
    {
        var a = this;
        var result = Elementwise.Binary<PowOp>(a, exponent, "pow");
        return Autograd.Record(result, [a, exponent], g => [
            a.RequiresGrad ? (g * exponent.Detach() * a.Detach().Pow(exponent.Detach() - 1f)).SumToShape(a.Sizes) : null,
            // PyTorch masks the exponent gradient to 0 where the base is 0 and the exponent is >= 0.
            exponent.RequiresGrad
                ? (g * result * a.Detach().Log()).MaskedFill(a.Detach().Eq(0f) * exponent.Detach().Ge(0f), 0f).SumToShape(exponent.Sizes)
                : null]);
    }

    /// <summary>Element-wise power with a scalar exponent (<c>torch.pow(self, exponent)</c>).</summary>
    public Tensor Pow(float exponent)
    {
        var a = this;
        return Autograd.Record(Elementwise.Binary<PowOp>(a, Scalar(exponent), "pow"), a,
            g => exponent == 0f ? ZerosLike(a) : g * exponent * a.Detach().Pow(exponent - 1f));
    }

    public Tensor Exp()
    {
        var result = Elementwise.Unary<ExpOp>(this);
        return Autograd.Record(result, this, g => g * result.Detach());
    }

    public Tensor Log()
    {
        var a = this;
        return Autograd.Record(Elementwise.Unary<LogOp>(a), a, g => g / a.Detach());
    }

    public Tensor Sqrt()
    {
        var result = Elementwise.Unary<SqrtOp>(this);
        return Autograd.Record(result, this, g => g / (2f * result.Detach()));
    }

    public Tensor Abs()
    {
        var a = this;
        return Autograd.Record(Elementwise.Unary<AbsOp>(a), a, g => g * a.Detach().Sign());
    }

    /// <summary>-1, 0 or 1 by sign (<c>torch.sign</c>); no gradient.</summary>
    public Tensor Sign() => Elementwise.Unary<SignOp>(this);

    /// <summary>Clamps into [min, max]; either bound may be null (<c>torch.clamp</c>). With min &gt; max every value becomes max.</summary>
    public Tensor Clamp(float? min = null, float? max = null)
    {
        if (min is null && max is null) throw new ArgumentException("Clamp: At least one of 'min' or 'max' must not be None");
        var a = this;
        var r = a;
        using (Autograd.NoGrad())
        {
            if (min is float lo) r = Elementwise.Binary<MaxOp>(r, Scalar(lo), "clamp");
            if (max is float hi) r = Elementwise.Binary<MinOp>(r, Scalar(hi), "clamp");
            if (ReferenceEquals(r, a)) r = a.Clone();
        }
        return Autograd.Record(r.Detach(), a, g =>
        {
            var x = a.Detach();
            var mask = min is float lo ? x.Ge(lo) : OnesLike(x);
            if (max is float hi) mask *= x.Le(hi);
            return g * mask;
        });
    }

    /// <summary>Element-wise maximum with broadcasting, NaN-propagating (<c>torch.maximum</c>). Ties split the gradient.</summary>
    public Tensor Maximum(Tensor other) => MinMax<MaxOp, Gt>(this, other, "maximum");

    /// <summary>Element-wise minimum with broadcasting, NaN-propagating (<c>torch.minimum</c>).</summary>
    public Tensor Minimum(Tensor other) => MinMax<MinOp, Lt>(this, other, "minimum");

    private static Tensor MinMax<TOp, TWins>(Tensor a, Tensor b, string name) where TOp : IBinaryOp where TWins : ICompare =>
        Autograd.Record(Elementwise.Binary<TOp>(a, b, name), [a, b], g =>
        {
            Tensor x = a.Detach(), y = b.Detach();
            var tie = x.Eq(y) * 0.5f;
            return [
                (g * (Elementwise.Binary<CompareOp<TWins>>(x, y, name) + tie)).SumToShape(a.Sizes),
                (g * (Elementwise.Binary<CompareOp<TWins>>(y, x, name) + tie)).SumToShape(b.Sizes)];
        });

    // Comparisons return 0/1 float masks (PyTorch returns bool tensors); they carry no gradient.
    public Tensor Gt(Tensor other) => Elementwise.Binary<CompareOp<Gt>>(this, other, "gt");
    public Tensor Ge(Tensor other) => Elementwise.Binary<CompareOp<Ge>>(this, other, "ge");
    public Tensor Lt(Tensor other) => Elementwise.Binary<CompareOp<Lt>>(this, other, "lt");
    public Tensor Le(Tensor other) => Elementwise.Binary<CompareOp<Le>>(this, other, "le");
    public Tensor Eq(Tensor other) => Elementwise.Binary<CompareOp<Eq>>(this, other, "eq");
    public Tensor Gt(float s) => Gt(Scalar(s));
    public Tensor Ge(float s) => Ge(Scalar(s));
    public Tensor Lt(float s) => Lt(Scalar(s));
    public Tensor Le(float s) => Le(Scalar(s));
    public Tensor Eq(float s) => Eq(Scalar(s));

    /// <summary>Where <paramref name="mask"/> is nonzero, <paramref name="value"/>; elsewhere this tensor's value.</summary>
    public Tensor MaskedFill(Tensor mask, float value)
    {
        var a = this;
        var m = mask.Expand(a.Sizes.ToArray()).Contiguous().Span;
        var r = a.Contiguous().Clone().Detach();
        var d = r.Span;
        for (int i = 0; i < d.Length; i++) if (m[i] != 0) d[i] = value;
        var keep = mask.Eq(0f);
        return Autograd.Record(r, a, g => g * keep);
    }
}
