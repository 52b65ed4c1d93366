using System.Collections.Immutable;
using ScottPlot;

namespace CompleteP.Plotting.Internal;

/// <summary>Colors, markers and fonts shared by every figure.</summary>
internal static class Theme
{
    /// <summary>Tableau's ten (matplotlib's tab10), then two more that stay apart from them.</summary>
    private static readonly ImmutableArray<string> Hex =
    [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#b5651d",
    ];

    private static readonly ImmutableArray<MarkerShape> Markers =
    [
        MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond,
        MarkerShape.FilledTriangleDown, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.OpenTriangleUp,
        MarkerShape.OpenDiamond, MarkerShape.OpenTriangleDown, MarkerShape.Eks, MarkerShape.Asterisk,
    ];

    private static readonly ImmutableArray<string> SansFonts = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "FreeSans"];

    /// <summary>The color of the style with this index (cycles after 12).</summary>
    public static Color ColorOf(int style) => new(Hex[Mod(style, Hex.Length)]);

    /// <summary>The marker of the style with this index (cycles after 12).</summary>
    public static MarkerShape MarkerOf(int style) => Markers[Mod(style + (style / Hex.Length), Markers.Length)]; // past the palette, the colours repeat with other markers

    /// <summary>The figure background.</summary>
    public static Color Background => Colors.White;

    /// <summary>Text and frame color.</summary>
    public static Color Ink => new("#222222");

    /// <summary>
    /// A sans-serif font that is installed (SkiaSharp's Linux build reads font files under
    /// <c>/usr/share/fonts</c>), else ScottPlot's default.
    /// </summary>
    public static string FontName()
    {
        foreach (var name in SansFonts)
        {
            var typeface = Fonts.GetTypeface(name, bold: false, italic: false);
            if (typeface is not null && string.Equals(typeface.FamilyName, name, StringComparison.OrdinalIgnoreCase))
            {
                return name;
            }
        }

        return Fonts.Default;
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;
}
