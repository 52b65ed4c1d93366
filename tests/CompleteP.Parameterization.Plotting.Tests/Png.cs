using CompleteP.Plotting;
using System.Buffers.Binary;
using SkiaSharp;

namespace CompleteP.Tests.Plotting;

/// <summary>Reads back what a plot wrote.</summary>
public static class Png
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Checks the PNG signature and returns the size from the IHDR chunk.</summary>
    public static (int Width, int Height) Header(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 33 || !bytes.AsSpan(0, 8).SequenceEqual(Signature))
        {
            throw new InvalidDataException($"{path} is not a PNG file.");
        }

        if (System.Text.Encoding.ASCII.GetString(bytes, 12, 4) != "IHDR")
        {
            throw new InvalidDataException($"{path} does not start with an IHDR chunk.");
        }

        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    /// <summary>
    /// Decodes the image and, for each cell of a grid of panels (row by row), counts the pixels with a clear
    /// hue (the data lines, as grid, frames and text are gray).
    /// </summary>
    public static int[] ColoredPerPanel(string path, int rows, int columns, int legendColumnWidth)
    {
        using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path} does not decode.");
        int cellWidth = (bitmap.Width - legendColumnWidth) / columns, cellHeight = bitmap.Height / rows;
        var counts = new int[rows * columns];
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width - legendColumnWidth; x++)
            {
                var c = bitmap.GetPixel(x, y);
                int max = Math.Max(c.Red, Math.Max(c.Green, c.Blue)), min = Math.Min(c.Red, Math.Min(c.Green, c.Blue));
                if (max - min > 60)
                {
                    counts[(Math.Min(y / cellHeight, rows - 1) * columns) + Math.Min(x / cellWidth, columns - 1)]++;
                }
            }
        }

        return counts;
    }

    /// <summary>Decodes the image and counts pixels that are not white, and those with a clear hue (the data lines).</summary>
    public static (int Width, int Height, int Inked, int Colored) Decode(string path)
    {
        using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path} does not decode.");
        int inked = 0, colored = 0;
        for (int y = 0; y < bitmap.Height; y += 2)
        {
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red < 240 || c.Green < 240 || c.Blue < 240)
                {
                    inked++;
                }

                int max = Math.Max(c.Red, Math.Max(c.Green, c.Blue)), min = Math.Min(c.Red, Math.Min(c.Green, c.Blue));
                if (max - min > 60)
                {
                    colored++;
                }
            }
        }

        return (bitmap.Width, bitmap.Height, inked, colored);
    }
}
