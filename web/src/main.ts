import { createApp } from "vue";
import App from "./App.vue";
import "./theme.css";
import "./ride.css";

createApp(App).mount("#app");
