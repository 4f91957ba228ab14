using ConvKit.Nn;
using ConvKit.Vision.Models;
using static ConvKit.Onnx.OnnxGraphBuilder;

namespace ConvKit.Onnx;

/// <summary>Exporters of ConvKit.Vision models: SmallSECnn, ResNet/BasicBlock, UNet (crop → Slice, cat → Concat), FcnResNet18 and their parts.</summary>
internal static class VisionExporters
{
    public static void Register(Dictionary<Type, ModuleExporter> r)
    {
        r[typeof(ModuleList<>)] = (c, m, p, x) => c.Chain(m.NamedChildren(), p, x);
        r[typeof(SmallSECnn)] = (c, m, p, x) => c.Export(((SmallSECnn)m).Features, ExportContext.Sub(p, "f"), x);
        r[typeof(BasicBlock)] = (c, m, p, x) => Block(c, (BasicBlock)m, p, x);
        r[typeof(ResNet)] = (c, m, p, x) => ResNet(c, (ResNet)m, p, x);
        r[typeof(FcnResNet18)] = (c, m, p, x) => Fcn(c, (FcnResNet18)m, p, x);
        r[typeof(UNet)] = (c, m, p, x) => UNet(c, (UNet)m, p, x);
        r[typeof(ConvPyramid)] = (c, m, p, x) => ConvPyramid(c, (ConvPyramid)m, p, x);
        r[typeof(ChannelAttention)] = (c, m, p, x) => Attention(c, (ChannelAttention)m, p, x);
        r[typeof(AtrousPyramid)] = (c, m, p, x) => Atrous(c, (AtrousPyramid)m, p, x);
        r[typeof(ImagePoolingMarker)] = (c, m, p, x) => ImagePooling(c, m, p, x);
        r[typeof(BilinearUpsampler)] = (c, m, p, x) => c.Export(((BilinearUpsampler)m).Conv, ExportContext.Sub(p, "conv"), x);
    }

    private static ExportValue Block(ExportContext c, BasicBlock m, string p, ExportValue x)
    {
        var identity = m.Downsample is null ? x : c.Export(m.Downsample, ExportContext.Sub(p, "downsample"), x);
        var y = c.Export(m.Conv1, ExportContext.Sub(p, "conv1"), x);
        y = c.Relu(p, c.Export(m.Bn1, ExportContext.Sub(p, "bn1"), y));
        y = c.Export(m.Bn2, ExportContext.Sub(p, "bn2"), c.Export(m.Conv2, ExportContext.Sub(p, "conv2"), y));
        if (m.SE is not null) y = c.Export(m.SE, ExportContext.Sub(p, "se"), y);
        var sum = c.Op("Add", p, [y.Name, identity.Name], y.Value + identity.Value);
        return c.Relu(p, sum);
    }

    private static ExportValue ResNet(ExportContext c, ResNet m, string p, ExportValue x)
    {
        x = c.Chain(m.NamedChildren().Where(ch => ch.Name is not ("avgpool" or "fc")), p, x);
        x = c.Export(m.AvgPool, ExportContext.Sub(p, "avgpool"), x);
        x = c.Op("Flatten", p, [x.Name], x.Value.Flatten(1), Attr("axis", 1L));
        return c.Export(m.Fc, ExportContext.Sub(p, "fc"), x);
    }

    private static ExportValue Fcn(ExportContext c, FcnResNet18 m, string p, ExportValue x)
    {
        int h = x.Value.Shape[2], w = x.Value.Shape[3];
        int ph = (h + 31) / 32 * 32, pw = (w + 31) / 32 * 32;
        var y = c.CropOrPad(x, ph, pw, p);
        y = c.Chain(m.NamedChildren(), p, y);
        return c.CropOrPad(y, h, w, p);
    }

    private static ExportValue UNet(ExportContext c, UNet m, string p, ExportValue x)
    {
        var skips = new List<ExportValue>();
        for (int i = 0; i < m.Enc.Count; i++) skips.Add(x = c.Export(m.Enc[i], $"{ExportContext.Sub(p, "enc")}.{i}", x));
        for (int i = 0; i < m.Up.Count; i++)
        {
            var skip = skips[skips.Count - 2 - i];
            var up = c.Export(m.Up[i], $"{ExportContext.Sub(p, "up")}.{i}", x);
            up = c.CropOrPad(up, skip.Value.Shape[2], skip.Value.Shape[3], $"{ExportContext.Sub(p, "up")}.{i}");
            var att = c.Export(m.Att[i], $"{ExportContext.Sub(p, "att")}.{i}", skip);
            var pyr = c.Export(m.Pyr[i], $"{ExportContext.Sub(p, "pyr")}.{i}", up);
            x = c.Op("Concat", p, [att.Name, pyr.Name], Tensor.Cat([att.Value, pyr.Value], 1), Attr("axis", 1L));
            x = c.Relu(p, c.Export(m.Bn1[i], $"{ExportContext.Sub(p, "bn1")}.{i}", x));
            x = c.Export(m.Conv2[i], $"{ExportContext.Sub(p, "conv2")}.{i}", x);
        }
        return c.Export(m.Out, ExportContext.Sub(p, "out"), x);
    }

    private static ExportValue ConvPyramid(ExportContext c, ConvPyramid m, string p, ExportValue x)
    {
        for (int i = 0; i < m.Convs.Count; i++) x = c.Relu(p, c.Export(m.Convs[i], $"{ExportContext.Sub(p, "convs")}.{i}", x));
        return x;
    }

    private static ExportValue Attention(ExportContext c, ChannelAttention m, string p, ExportValue x)
    {
        var s = c.Op("ReduceMean", p, [x.Name], x.Value.Mean([2, 3], keepDim: true), Attr("axes", 2L, 3L), Attr("keepdims", 1L));
        s = c.Relu(p, c.Export(m.Conv1, ExportContext.Sub(p, "conv1"), s));
        s = c.Export(m.Conv2, ExportContext.Sub(p, "conv2"), s);
        s = m.Kind == AttentionKind.Softmax
            ? c.Op("Softmax", p, [c.Relu(p, s).Name], F.Softmax(F.Relu(s.Value), 1), Attr("axis", 1L))
            : c.Op("Sigmoid", p, [s.Name], F.Sigmoid(s.Value));
        return c.Op("Mul", p, [s.Name, x.Name], m.Call(x.Value));
    }

    private static ExportValue Atrous(ExportContext c, AtrousPyramid m, string p, ExportValue x)
    {
        var branches = m.Convs.Select((b, i) => c.Export(b, $"{ExportContext.Sub(p, "convs")}.{i}", x)).ToList();
        var cat = c.Op("Concat", p, branches.Select(b => b.Name).ToArray(), Tensor.Cat(branches.Select(b => b.Value).ToList(), 1), Attr("axis", 1L));
        return c.Export(m.Project, ExportContext.Sub(p, "project"), cat);
    }

    /// <summary>AtrousPyramid's image pooling: its numbered children, then a bilinear Resize back to the input size.</summary>
    private static ExportValue ImagePooling(ExportContext c, Module m, string p, ExportValue x)
    {
        var y = c.Chain(m.NamedChildren(), p, x);
        var full = m.Call(x.Value);
        return c.Op("Resize", p, NnExporters.ResizeInputs(c, p, y, null, full), full,
                    Attr("mode", "linear"), Attr("coordinate_transformation_mode", "half_pixel"));
    }
}
