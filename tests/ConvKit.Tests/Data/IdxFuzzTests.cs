using ConvKit.Data;
using Xunit;

namespace ConvKit.Tests.Data;

/// <summary>
/// Seeded mutation fuzzing of the IDX reader: random byte changes, truncations and extensions of valid
/// files, plain and gzip. The only exception allowed is DataFormatException, and whatever parses is
/// self-consistent.
/// </summary>
public class IdxFuzzTests
{
    [Fact]
    public void MutatedFilesEitherParseConsistentlyOrRaiseDataFormatException()
    {
        var plain = new[] { IdxBytes.Images(2, 3, 4, i => (byte)(i * 11)), IdxBytes.Labels(3, 1, 4, 1, 5) };
        var seeds = plain.Concat(plain.Select(IdxBytes.Gzip)).ToArray();
        var rng = new Random(20240611);
        int parsed = 0, rejected = 0;
        for (int round = 0; round < 300; round++)
        {
            var file = Mutate(seeds[round % seeds.Length], rng);
            try
            {
                CheckConsistent(IdxBytes.Parse(file));
                parsed++;
            }
            catch (DataFormatException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"round {round}: {e.GetType().Name} instead of DataFormatException for [{Convert.ToHexString(file)}]: {e}");
            }
        }
        Assert.True(parsed > 0 && rejected > 0, $"parsed {parsed}, rejected {rejected}: the mutations should do both");
    }

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        var file = seed.ToList();
        switch (rng.Next(4))
        {
            case 0 when file.Count > 1:
                int cut = rng.Next(1, file.Count);
                file.RemoveRange(cut, Math.Min(file.Count - cut, rng.Next(1, 9)));
                break;
            case 1:
                file.AddRange(Enumerable.Range(0, rng.Next(1, 8)).Select(_ => (byte)rng.Next(256)));
                break;
        }
        int changes = rng.Next(1, 4);
        for (int k = 0; k < changes && file.Count > 0; k++)
        {
            // Half the changes land in the first 16 bytes, where the headers are.
            int at = rng.Next(2) == 0 ? rng.Next(Math.Min(16, file.Count)) : rng.Next(file.Count);
            file[at] = (byte)rng.Next(256);
        }
        return file.ToArray();
    }

    private static void CheckConsistent(IdxFile file)
    {
        long elements = file.Dims.Aggregate(1L, (p, d) => p * d);
        Assert.All(file.Dims, d => Assert.True(d > 0));
        Assert.Equal(elements * IdxFile.ElementSize(file.ElementType), file.Data.Length);
        if (file.Magic == 0x00000803)
        {
            var images = file.ToImages();
            Assert.Equal([file.Dims[0], 1, file.Dims[1], file.Dims[2]], images.Shape);
            Assert.All(images.ToArray(), v => Assert.InRange(v, 0f, 1f));
        }
        else if (file.Magic == 0x00000801)
            Assert.Equal(file.Dims[0], file.ToLabels().Numel);
        else
            Assert.Throws<DataFormatException>(() => file.ToImages());
    }
}
