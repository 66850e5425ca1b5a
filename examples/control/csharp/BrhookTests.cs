// A C# sender's conformance test (xunit) against `brhook serve --control 127.0.0.1:7700`.
//
//   BRHOOK_CONTROL=http://127.0.0.1:7700 dotnet test
using System;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Tasks;
using Xunit;

public class BrhookTests
{
    static readonly HttpClient Api = new()
    {
        BaseAddress = new Uri((Environment.GetEnvironmentVariable("BRHOOK_CONTROL") ?? "http://127.0.0.1:7700") + "/v1/"),
        Timeout = TimeSpan.FromMinutes(2),
    };

    static async Task<JsonElement> Post(string path, object body) =>
        await (await Api.PostAsJsonAsync(path, body)).Content.ReadFromJsonAsync<JsonElement>();

    [Fact]
    public async Task SenderConforms()
    {
        var capture = await Post("captures", new
        {
            backoff_scale = 0.05,
            urls = new object[] {
                new { name = "slow", fault = "delay:300" }, new { name = "a" },
                new { name = "flaky", fault = "fail:2" }, new { name = "old", setting = "v1" } },
        });
        var id = capture.GetProperty("id").GetString();
        var v2 = capture.GetProperty("v2").EnumerateArray().Select(u => u.GetString()!).ToArray();
        var v1 = capture.GetProperty("v1").EnumerateArray().Select(u => u.GetString()!).ToArray();

        await MySender.Run(v2, v1); // your sender: WebHookUrlsV2, WebHookUrls

        await Post($"captures/{id}/wait", new { events = 1, timeout_s = 30 });
        var report = await Post($"captures/{id}/finish", new { quiet_s = 0.5 });
        Assert.True(report.GetProperty("verdict").GetString() == "pass", report.GetProperty("findings").ToString());
    }
}

static class MySender
{
    // Stands in for your sender: configure it with these URLs and make it deliver a
    // recording session's webhooks.
    public static Task Run(string[] v2, string[] v1) => Task.CompletedTask;
}
