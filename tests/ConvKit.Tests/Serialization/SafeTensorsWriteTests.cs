using ConvKit.Nn;
using ConvKit.Serialization;
using Xunit;

namespace ConvKit.Tests.Serialization;

/// <summary>Writing: round trips, the byte layout PyTorch's readers expect, state dicts by name, atomic replacement.</summary>
public class SafeTensorsWriteTests : TempDirectory
{
    [Fact]
    public void RoundTripKeepsValuesShapesLongsAndMetadata()
    {
        var path = PathOf("a.safetensors");
        var x = Tensor.Randn([2, 3, 4], new Generator(3));
        SafeTensors.Save(path,
            [SafeTensorsEntry.Float("x", x), SafeTensorsEntry.Float("s", Tensor.Full([], 7f)), SafeTensorsEntry.Float("e", Tensor.Zeros(0, 2)),
             SafeTensorsEntry.Long("n", [2], [long.MaxValue, -5])],
            new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "ü \"quoted\"" });
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal(["x", "s", "e", "n"], f.Entries.Select(e => e.Name));
        Assert.Equal(x.ToArray(), f.ReadTensor("x").ToArray());
        Assert.Equal([2, 3, 4], f.ReadTensor("x").Shape);
        Assert.Equal(7f, f.ReadTensor("s").Item());
        Assert.Equal([0, 2], f.ReadTensor("e").Shape);
        Assert.Equal(SafeTensorsDType.I64, f["n"].DType);
        Assert.Equal([long.MaxValue, -5], f.ReadLongTensor("n").ToArray());
        Assert.Equal("ü \"quoted\"", f.Metadata["note"]);
    }

    [Fact]
    public void HeaderIsPaddedToEightBytesSoDataIsAligned()
    {
        var path = PathOf("b.safetensors");
        SafeTensors.Save(path, [SafeTensorsEntry.Float("abc", Tensor.Ones(3))]);
        var bytes = File.ReadAllBytes(path);
        ulong n = BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0UL, n % 8);
        Assert.Equal(8 + (long)n + 12, bytes.Length);
    }

    [Fact]
    public void DuplicateOrReservedNamesAndShapeValueMismatchesAreRejected()
    {
        var path = PathOf("c.safetensors");
        Assert.Contains("unique", Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [SafeTensorsEntry.Float("a", Tensor.Ones(1)), SafeTensorsEntry.Float("a", Tensor.Ones(1))])).Message);
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [SafeTensorsEntry.Float("__metadata__", Tensor.Ones(1))]));
        Assert.Contains("3 values", Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new SafeTensorsEntry("a", [2], [1, 2, 3], null)])).Message);
        Assert.False(File.Exists(path));
    }

    private static Sequential Net() => new(new Conv2d(2, 3, 3), new BatchNorm2d(3), new ReLU(), new Conv2d(3, 1, 1));

    [Fact]
    public void StateDictRoundTripsByNameWithCountersAsInt64()
    {
        var path = PathOf("net.safetensors");
        Sequential a, b;
        using (Generator.Use(new Generator(1))) a = Net();
        using (Generator.Use(new Generator(2))) b = Net();
        a.Forward(Tensor.Randn([2, 2, 5, 5], new Generator(9)));
        SafeTensors.SaveStateDict(path, a);
        using (var f = SafeTensorsFile.Open(path))
        {
            Assert.Equal(a.StateDict().Select(kv => kv.Key), f.Entries.Select(e => e.Name));
            Assert.Equal(SafeTensorsDType.I64, f["1.num_batches_tracked"].DType);
            Assert.Equal(1L, f.ReadLongTensor("1.num_batches_tracked").Item());
        }
        SafeTensors.LoadStateDict(path, b);
        foreach (var ((ka, va), (kb, vb)) in a.StateDict().Zip(b.StateDict()))
        {
            Assert.Equal(ka, kb);
            Assert.Equal(va.ToArray(), vb.ToArray());
        }
    }

    [Fact]
    public void CheckpointOfAnotherModelNamesTheMismatchedKeys()
    {
        var path = PathOf("other.safetensors");
        SafeTensors.SaveStateDict(path, new Sequential(new Conv2d(2, 4, 3), new BatchNorm2d(4)));
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.LoadStateDict(path, Net()));
        Assert.Contains("size mismatch for 0.weight", e.Message);
        Assert.Contains("[4, 2, 3, 3]", e.Message);
        SafeTensors.SaveStateDict(path, new Sequential(new Conv2d(2, 3, 3)));
        var m = Assert.Throws<ArgumentException>(() => SafeTensors.LoadStateDict(path, Net()));
        Assert.Contains("Missing key(s)", m.Message);
        Assert.Contains("\"1.running_mean\"", m.Message);
        var (missing, unexpected) = SafeTensors.LoadStateDict(path, Net(), strict: false);
        Assert.Contains("3.weight", missing);
        Assert.Empty(unexpected);
    }

    [Fact]
    public void PrefixSelectsOneModelOutOfACombinedFile()
    {
        var path = PathOf("combined.safetensors");
        var a = Net();
        SafeTensors.Save(path, SafeTensors.StateDictEntries(a).Concat([SafeTensorsEntry.Float("optimizer/state.0.exp_avg", Tensor.Ones(2))]));
        var b = Net();
        Assert.Throws<ArgumentException>(() => SafeTensors.LoadStateDict(path, b));
        SafeTensors.LoadStateDict(path, b, strict: false);
        Assert.Equal(a.StateDict()[0].Value.ToArray(), b.StateDict()[0].Value.ToArray());
    }

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporaryFile()
    {
        var path = PathOf("keep.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            throw new InvalidOperationException("killed mid-write");
        }));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(Dir));
    }

    [Fact]
    public void GeneratorStateResumesTheSameStream()
    {
        var g = new Generator(11);
        Tensor.Randn([7], g);
        g.NextUInt32();
        var state = g.GetState();
        var expected = Tensor.Randn([9], g).ToArray();
        var h = new Generator(0);
        h.SetState(state);
        Assert.Equal(expected, Tensor.Randn([9], h).ToArray());
        Assert.Equal(11UL, h.InitialSeed);
        Assert.Contains("expected a state of", Assert.Throws<ArgumentException>(() => h.SetState(state.AsSpan(1))).Message);
    }
}
